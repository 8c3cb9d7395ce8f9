// On every page of a signed-in person: listens on the personal socket (ws/me/) and, when an
// officer's video roll-call rings (``rollcall.ring``), opens the full-screen call page.
// Reconnects with a growing pause, quietly: a page without a socket simply does not ring
// (the text message with the link follows after a minute).
(function () {
  "use strict";
  if (!("WebSocket" in window)) return;
  var pause = 2000;
  var here = window.location.pathname;

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + window.location.host + "/ws/me/");
    } catch (error) {
      return;
    }
    socket.onopen = function () { pause = 2000; };
    socket.onmessage = function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (error) { return; }
      if (!data || data.type !== "rollcall.ring" || typeof data.url !== "string") return;
      if (data.url.charAt(0) !== "/" || data.url.charAt(1) === "/") return;
      if (here === data.url) return;
      window.location.assign(data.url);
    };
    socket.onclose = function (event) {
      if (event.code === 4401 || event.code === 4403) return; // signed out
      window.setTimeout(connect, pause);
      pause = Math.min(pause * 2, 60000);
    };
  }
  connect();
})();
