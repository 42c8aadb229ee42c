// Follows the workers' logs on a job's page: every <pre data-log="URL"> gets its
// log's tail, then whatever the worker appends (polling URL?offset=N; the
// server answers the bytes from N and X-Offset, where the next read starts).
// The session cookie authenticates the reads; no token is ever in the page.
(function () {
  "use strict";
  var PERIOD_MS = 2000, TAIL = -16384, MAX_CHARS = 200000;

  function follow(pre) {
    var url = pre.getAttribute("data-log"), offset = TAIL, busy = false, started = false;
    function poll() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(url + "?offset=" + offset, {credentials: "same-origin", redirect: "error"})
        .then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          var next = parseInt(r.headers.get("X-Offset"), 10);
          return r.text().then(function (text) {
            if (!isNaN(next)) { offset = next; }
            if (text) {
              var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
              var all = (started ? pre.textContent : "") + text;
              started = true;
              pre.textContent = all.length > MAX_CHARS ? all.slice(all.length - MAX_CHARS) : all;
              if (atBottom) { pre.scrollTop = pre.scrollHeight; }
            } else if (!started) {
              pre.textContent = "(empty log)";
            }
            pre.setAttribute("data-offset", String(offset));
          });
        })
        .catch(function (e) { pre.setAttribute("data-error", String(e)); })
        .then(function () { busy = false; });
    }
    poll();
    setInterval(poll, PERIOD_MS);
  }

  document.querySelectorAll("pre[data-log]").forEach(follow);
})();
