// Presence checks on the learner's lecture page: opens the lecture socket (ws/live/<id>/),
// shows the lecturer's "are you still here?" with a countdown and sends the answer. The
// server decides whether the answer was in time; this script only asks.
(function () {
  "use strict";
  var box = document.getElementById("presence-check");
  if (!box || !window.WebSocket) return;
  var lecture = box.dataset.lecture;
  var button = document.getElementById("presence-answer");
  var countdown = document.getElementById("presence-countdown");
  var done = document.getElementById("presence-done");
  var socket = null;
  var retry = 1000;
  var current = null;
  var timer = null;

  function show(check) {
    current = check.check;
    var deadline = Date.now() + check.seconds * 1000;
    box.hidden = false;
    box.dataset.state = "asked";
    button.disabled = false;
    done.hidden = true;
    if (timer) window.clearInterval(timer);
    function tick() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      countdown.textContent = String(left);
      if (left <= 0) {
        window.clearInterval(timer);
        timer = null;
      }
    }
    tick();
    timer = window.setInterval(tick, 1000);
    if (navigator.vibrate) navigator.vibrate(200);
  }

  function finish(status) {
    if (timer) window.clearInterval(timer);
    timer = null;
    box.dataset.state = status;
    button.disabled = true;
    done.textContent = box.getAttribute("data-said-" + status) || "";
    done.hidden = false;
    window.setTimeout(function () {
      if (box.dataset.state === status) box.hidden = true;
    }, 8000);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + "/ws/live/" + lecture + "/");
    } catch (e) {
      return;
    }
    socket.addEventListener("open", function () { retry = 1000; box.dataset.socket = "open"; });
    socket.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (!data) return;
      if (data.type === "check") show(data);
      else if (data.type === "check.answer" && data.check === current) finish(data.status);
    });
    socket.addEventListener("close", function (event) {
      box.dataset.socket = "closed";
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) return;
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  button.addEventListener("click", function () {
    if (current === null || !socket || socket.readyState !== WebSocket.OPEN) return;
    button.disabled = true;
    socket.send(JSON.stringify({ type: "check.answer", check: current }));
  });
  // While the page is shown, being in the lecture is activity, as playing a lesson is (its
  // heartbeat): a ping every few minutes moves the session's idle clock on, so that a quiet
  // stretch of the lecture does not close the socket before the next presence check.
  window.setInterval(function () {
    if (document.visibilityState !== "visible") return;
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
  }, 5 * 60 * 1000);
  connect();
})();
