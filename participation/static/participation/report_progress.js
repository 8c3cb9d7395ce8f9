// Polls a report's progress (learning/report_views.py ``report_status``) until it is ready
// or has failed, then shows the download button or the error. No library needed.
(function () {
  "use strict";
  var root = document.getElementById("report");
  if (!root) return;
  var url = root.getAttribute("data-status-url");
  var status = root.getAttribute("data-status");
  var label = root.querySelector("[data-testid=report-status]");
  var bar = root.querySelector("[data-testid=report-progress]");
  var error = root.querySelector("[data-testid=report-error]");
  var form = root.querySelector("[data-testid=download-form]");
  var delay = 1000;

  function show(state) {
    label.textContent = state.label;
    bar.value = state.percent;
    bar.textContent = state.percent + "%";
    if (state.error) {
      error.textContent = state.error;
      error.hidden = false;
    }
    if (state.status === "ready" || state.status === "failed") bar.hidden = true;
    if (state.ready) form.hidden = false;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.status !== "ready" && state.status !== "failed") schedule();
      })
      .catch(function () {
        delay = Math.min(delay * 2, 10000);
        schedule();
      });
  }

  function schedule() {
    window.setTimeout(poll, delay);
  }

  if (status !== "ready" && status !== "failed") schedule();
})();
