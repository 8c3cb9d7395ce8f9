// The live roster in the admin: opens the lecture socket (ws/live/<id>/), draws the roster
// the server sends and applies its changes. Labels come from data attributes (translated
// in the template). Presence is decided by the server; this script only shows it.
(function () {
  "use strict";
  var root = document.getElementById("live-roster");
  if (!root || !window.WebSocket) return;
  var lecture = root.dataset.lecture;
  var body = document.getElementById("roster-rows");
  var status = document.getElementById("check-status");
  var sendButton = document.getElementById("send-check");
  var connection = root.querySelector("[data-testid=roster-connection]");
  var socket = null;
  var retry = 1000;
  var rows = {};
  var refreshTimer = null;

  function label(value) {
    return root.getAttribute("data-label-" + value) || value;
  }

  function setConnection(state) {
    root.dataset.state = state;
    connection.textContent = connection.getAttribute("data-" + state) || state;
  }

  function counts() {
    var found = { present: 0, left: 0, not_joined: 0 };
    var total = 0;
    Object.keys(rows).forEach(function (key) {
      total += 1;
      found[rows[key].dataset.state] += 1;
    });
    root.querySelector("[data-count=expected]").textContent = total;
    Object.keys(found).forEach(function (key) {
      root.querySelector("[data-count=" + key + "]").textContent = found[key];
    });
  }

  function setState(row, state) {
    row.dataset.state = state;
    row.querySelector(".roster-state").textContent = label(state);
  }

  function setCheck(row, check) {
    row.dataset.check = check || "";
    row.querySelector(".roster-check").textContent = check ? label(check) : "—";
  }

  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function draw(snapshot) {
    body.textContent = "";
    rows = {};
    snapshot.rows.forEach(function (data) {
      var row = document.createElement("tr");
      row.setAttribute("data-testid", "roster-row");
      row.dataset.person = data.person;
      row.appendChild(cell(data.name));
      row.appendChild(cell(data.office));
      row.appendChild(cell("", "roster-state"));
      row.appendChild(cell("", "roster-check"));
      setState(row, data.state);
      setCheck(row, data.check);
      rows[data.person] = row;
      body.appendChild(row);
    });
    document.getElementById("roster-empty").hidden = snapshot.rows.length > 0;
    counts();
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function onMessage(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (!data || typeof data.type !== "string") return;
    if (data.type === "roster") {
      draw(data);
    } else if (data.type === "row" && rows[data.person]) {
      setState(rows[data.person], data.state);
      counts();
    } else if (data.type === "answer" && rows[data.person]) {
      setCheck(rows[data.person], "answered");
    } else if (data.type === "check.sent") {
      data.asked.forEach(function (person) {
        if (rows[person]) setCheck(rows[person], "asked");
      });
      status.textContent = "";
      // once the window closes, the next snapshot shows who missed it
      window.setTimeout(function () { send({ type: "refresh" }); }, (data.check.expires_at ?
        Math.max(0, Date.parse(data.check.expires_at) - Date.now()) : 60000) + 3000);
    } else if (data.type === "check.refused") {
      status.textContent = root.getAttribute("data-refused-" + data.reason) || data.reason;
    } else if (data.type === "stale") {
      if (!refreshTimer) {
        refreshTimer = window.setTimeout(function () {
          refreshTimer = null;
          send({ type: "refresh" });
        }, 2500);
      }
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + "/ws/live/" + lecture + "/");
    } catch (e) {
      return;
    }
    socket.addEventListener("open", function () { retry = 1000; setConnection("live"); });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      setConnection("lost");
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) return;
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  if (sendButton) {
    sendButton.addEventListener("click", function () { send({ type: "check.send" }); });
  }
  // the server's view changes with webhooks; look again now and then
  window.setInterval(function () { send({ type: "refresh" }); }, 20000);
  connect();
})();
