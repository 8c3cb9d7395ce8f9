// The one-to-one roll-call room, for the person (rollcall/call.html) and the officer
// (rollcall/admin/target.html). "Join" posts to the join URL, which answers the Jitsi embed
// settings with a short-lived token (or 409 with a message once the call is over); the room
// then starts with Jitsi's own IFrame API script, loaded from the video server. The countdown
// counts down from the server's figure; the result is decided by the server, never here.
(function () {
  "use strict";
  var root = document.getElementById("rollcall");
  if (!root) return;
  var holder = document.getElementById("rollcall-room");
  var button = document.getElementById("rollcall-join");
  var notice = document.getElementById("rollcall-notice");
  var countdown = document.getElementById("rollcall-countdown");
  var left = parseInt(root.dataset.secondsLeft || "0", 10);
  var ringer = null;

  function say(text) {
    if (!notice) return;
    notice.textContent = text;
    notice.hidden = false;
  }

  function tick() {
    if (!countdown) return;
    var m = Math.floor(left / 60), s = left % 60;
    countdown.textContent = m + ":" + (s < 10 ? "0" : "") + s;
    if (left > 0) { left -= 1; window.setTimeout(tick, 1000); }
    else if (root.dataset.lateText) say(root.dataset.lateText);
  }

  // A soft two-tone ring where the browser allows sound without a tap; silent otherwise.
  function ring() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || root.dataset.ring !== "1") return;
    try {
      var context = new Context();
      var beep = function () {
        if (!ringer) return;
        [0, 0.35].forEach(function (offset, i) {
          var osc = context.createOscillator(), gain = context.createGain();
          osc.frequency.value = i ? 660 : 880;
          gain.gain.value = 0.08;
          osc.connect(gain); gain.connect(context.destination);
          osc.start(context.currentTime + offset);
          osc.stop(context.currentTime + offset + 0.25);
        });
      };
      ringer = window.setInterval(beep, 2000);
      beep();
    } catch (error) { ringer = null; }
  }

  function stopRing() {
    if (ringer) { window.clearInterval(ringer); ringer = null; }
  }

  function start(embed) {
    if (typeof window.JitsiMeetExternalAPI !== "function") {
      holder.dataset.state = "unavailable";
      say(root.dataset.unavailableText || "");
      return;
    }
    var options = {
      roomName: embed.room, parentNode: holder, width: "100%", height: "100%",
      userInfo: embed.user_info, configOverwrite: embed.config_overwrite,
    };
    if (embed.jwt) options.jwt = embed.jwt;
    try {
      window.rollcallRoom = new window.JitsiMeetExternalAPI(embed.domain, options);
      holder.dataset.state = "started";
      holder.hidden = false;
    } catch (error) {
      holder.dataset.state = "unavailable";
      say(root.dataset.unavailableText || "");
    }
  }

  function join() {
    stopRing();
    if (button) button.disabled = true;
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    fetch(root.dataset.joinUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" },
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (answer.ok && answer.body.embed) {
        holder.dataset.state = "joining";
        start(answer.body.embed);
      } else {
        holder.dataset.state = "refused";
        say(answer.body.message || root.dataset.unavailableText || "");
      }
    }).catch(function () {
      if (button) button.disabled = false;
      say(root.dataset.unavailableText || "");
    });
  }

  if (button) button.addEventListener("click", join);
  tick();
  ring();
  if (root.dataset.autojoin === "1") join();
})();
