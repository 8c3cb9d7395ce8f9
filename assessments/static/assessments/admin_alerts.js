// Critical-item alerts pushed over the user's socket (ws/me/) appear as a banner with a link
// to the result. The message carries ids only; the result page checks scope and logs the view.
(function () {
  "use strict";
  if (!window.WebSocket) return;
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var socket;
  try {
    socket = new WebSocket(scheme + window.location.host + "/ws/me/");
  } catch (e) {
    return;
  }
  socket.addEventListener("message", function (event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (!data || (data.type !== "alert" && data.type !== "alert.escalated")) return;
    var banner = document.createElement("div");
    banner.setAttribute("role", "alert");
    banner.setAttribute("data-testid", "assessment-alert-banner");
    banner.className = "help-block help-critical";
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = (document.documentElement.lang || "").indexOf("en") === 0
      ? "Critical item in a questionnaire (" + data.instrument + "): open the result"
      : "问卷出现危机条目（" + data.instrument + "）：查看结果";
    banner.appendChild(link);
    var main = document.querySelector("main") || document.body;
    main.insertBefore(banner, main.firstChild);
  });
})();
