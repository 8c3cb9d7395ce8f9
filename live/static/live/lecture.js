// Starts the Jitsi room on the lecture page with the settings the server put in #jitsi-embed
// (live.jitsi.embed_settings). Attendance is not decided here: the video server reports who
// joined and left, so this script only opens the room.
(function () {
  "use strict";
  var holder = document.getElementById("jitsi-room");
  var source = document.getElementById("jitsi-embed");
  if (!holder || !source) return;
  var embed = JSON.parse(source.textContent);

  function unavailable() {
    holder.dataset.state = "unavailable";
    var message = document.getElementById("jitsi-unavailable");
    if (message) message.hidden = false;
  }

  function start() {
    if (typeof window.JitsiMeetExternalAPI !== "function") return unavailable();
    var options = {
      roomName: embed.room,
      parentNode: holder,
      width: "100%",
      height: "100%",
      userInfo: embed.user_info,
      configOverwrite: embed.config_overwrite,
    };
    if (embed.jwt) options.jwt = embed.jwt;
    try {
      window.lectureRoom = new window.JitsiMeetExternalAPI(embed.domain, options);
      holder.dataset.state = "started";
    } catch (error) {
      unavailable();
    }
  }

  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
