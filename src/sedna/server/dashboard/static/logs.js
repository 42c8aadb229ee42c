// Follows the workers' logs on a job's page. Each <details> holding a
// <pre data-log="URL"> loads its log's tail when opened, then polls
// URL?offset=N for what the worker appends (the server answers the bytes from
// N and X-Offset, where the next read starts) while it stays open; a finished
// worker's log (data-final) stops being polled once read to its end.
// The session cookie authenticates the reads; no token is ever in the page.
(function () {
  "use strict";
  var PERIOD_MS = 2000, TAIL = -16384, MAX_CHARS = 200000;

  function follow(pre) {
    var url = pre.getAttribute("data-log"), box = pre.closest("details");
    var offset = TAIL, busy = false, started = false, done = false;
    var final = pre.hasAttribute("data-final");
    function poll() {
      if (busy || done || document.hidden || (box && !box.open)) { return; }
      busy = true;
      fetch(url + "?offset=" + offset, {credentials: "same-origin", redirect: "error"})
        .then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          var next = parseInt(r.headers.get("X-Offset"), 10), size = parseInt(r.headers.get("X-Size"), 10);
          return r.text().then(function (text) {
            if (!isNaN(next)) { offset = next; }
            if (text) {
              var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
              var all = (started ? pre.textContent : "") + text;
              pre.textContent = all.length > MAX_CHARS ? all.slice(all.length - MAX_CHARS) : all;
              if (atBottom) { pre.scrollTop = pre.scrollHeight; }
            } else if (!started) {
              pre.textContent = "(empty log)";
            }
            started = true;
            done = final && !isNaN(size) && offset >= size;
            pre.setAttribute("data-offset", String(offset));
          });
        })
        .catch(function (e) { pre.setAttribute("data-error", String(e)); })
        .then(function () { busy = false; });
    }
    if (box) { box.addEventListener("toggle", poll); }
    poll();
    setInterval(poll, PERIOD_MS);
  }

  document.querySelectorAll("pre[data-log]").forEach(follow);
})();
