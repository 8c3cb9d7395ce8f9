// Study-time heartbeats for a lesson page (#study-tracker). The server credits only the time
// between beats it receives itself, so this script just says "still here" while the page is
// visible (and, when the lesson has a video, while it plays).
(function () {
  "use strict";
  var root = document.getElementById("study-tracker");
  if (!root) return;
  var lesson = root.dataset.lesson;
  var url = root.dataset.url;
  var interval = Math.max(1000, parseInt(root.dataset.interval, 10) || 15000);
  var hasVideo = root.dataset.video === "1";
  var csrfInput = root.querySelector("input[name=csrfmiddlewaretoken]");
  var csrf = csrfInput ? csrfInput.value : "";
  var bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  var tab = Array.prototype.map.call(bytes, function (b) {
    return ("0" + b.toString(16)).slice(-2);
  }).join("");

  function playing() {
    if (!hasVideo) return true;
    var videos = root.querySelectorAll("video[data-study-video]");
    for (var i = 0; i < videos.length; i++) {
      if (!videos[i].paused && !videos[i].ended) return true;
    }
    return false;
  }

  // The same rules as lib/study_time.py: whole minutes, seconds only under one minute; the
  // studied time rounded down, the need rounded up, credit at the need reads as the need,
  // and a need under a minute puts both in seconds.
  function duration(seconds, roundUp, text) {
    if (seconds > 0 && seconds < 60) return text.dataset.secs.replace("%(n)s", String(seconds));
    var minutes = roundUp ? Math.ceil(seconds / 60) : Math.floor(seconds / 60);
    return text.dataset.minutes.replace("%(n)s", String(minutes));
  }

  function studyTime(done, total, text) {
    var need = duration(total, true, text);
    var studied;
    if (done >= total) studied = need;
    else if (total < 60) studied = text.dataset.secs.replace("%(n)s", String(done));
    else studied = duration(done, false, text);
    return text.dataset.sentence.replace("%(done)s", studied).replace("%(total)s", need);
  }

  function show(data) {
    if (!data || typeof data.credited_seconds !== "number") return;
    var text = root.querySelector("[data-testid=study-time]");
    var bar = root.querySelector("progress[data-testid=lesson-progress]");
    if (text) {
      var total = Math.max(0, parseInt(text.dataset.total, 10) || 0);
      // Never more than the need: credit past completion would read "44 / 36".
      var done = Math.max(0, Math.min(Math.floor(data.credited_seconds), total));
      text.dataset.seconds = String(done);
      text.textContent = studyTime(done, total, text);
    }
    if (bar) bar.value = data.credited_seconds;
  }

  function beat() {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ lesson: Number(lesson), tab: tab, playing: playing() }),
    })
      .then(function (response) {
        return response.json().then(function (data) {
          data.status = response.status;
          show(data);
          return data;
        });
      })
      .catch(function () {
        return { status: 0 };
      });
  }

  function beacon() {
    if (!navigator.sendBeacon || !playing()) return;
    var form = new URLSearchParams();
    form.set("csrfmiddlewaretoken", csrf);
    form.set("lesson", lesson);
    form.set("tab", tab);
    navigator.sendBeacon(url, form);
  }

  window.studyBeat = beat;
  beat();
  setInterval(function () {
    if (document.visibilityState === "visible" && playing()) beat();
  }, interval);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") beacon();
    else beat();
  });
})();
