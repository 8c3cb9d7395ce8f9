// The officer's board of one roll-call (rollcall/admin/call.html): rows change as the video
// server reports joins, the minute tick marks calls missed and officers confirm or excuse,
// pushed to every officer viewing the call on the call's own socket (ws/rollcall/<id>/,
// ``rollcall.target``; rollcall/consumers.py). Labels come from the page, so the board speaks
// the page's language; the server decides every state.
(function () {
  "use strict";
  var board = document.getElementById("rollcall-board");
  var labels = document.getElementById("rollcall-labels");
  if (!board || !labels || !("WebSocket" in window)) return;
  labels = JSON.parse(labels.textContent);
  var call = board.dataset.call;
  var pause = 2000;

  function update(data) {
    var row = board.querySelector("[data-target='" + data.target + "']");
    if (!row) return;
    row.dataset.state = data.state;
    row.querySelector("[data-cell=state]").textContent = labels.states[data.state] || data.state;
    row.querySelector("[data-cell=joined]").textContent = data.joined_at || "—";
    row.querySelector("[data-cell=result]").textContent = labels.results[data.result] || "—";
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/rollcall/" + call + "/");
    socket.onopen = function () { pause = 2000; board.dataset.socket = "open"; };
    socket.onmessage = function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (error) { return; }
      if (data && data.type === "rollcall.target" && String(data.call) === call) update(data);
    };
    socket.onclose = function (event) {
      board.dataset.socket = "closed";
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) return;
      window.setTimeout(connect, pause);
      pause = Math.min(pause * 2, 60000);
    };
  }
  connect();
})();
