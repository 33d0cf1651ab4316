// faas-pro dashboard: follow a function's logs. Lines are added as text nodes (never as HTML).
(function () {
  "use strict";
  var pre = document.getElementById("logs");
  var status = document.getElementById("follow-status");
  if (!pre || !pre.getAttribute("data-follow") || !window.fetch || !window.TextDecoder) { return; }
  var base = pre.getAttribute("data-follow").split("?")[0];
  var url = pre.getAttribute("data-follow");
  var empty = document.getElementById("no-logs");
  var delay = 1000, got = false;  // ask again soon after a stream that brought lines, slower after empty ones
  // "since" includes its own second: skip the lines already shown for the last timestamp
  var lastTs = "", shown = {};
  pre.querySelectorAll(".ts").forEach(function (el) {
    var ts = el.textContent, rest = el.nextSibling ? el.nextSibling.textContent.replace(/\n$/, "") : "";
    if (ts !== lastTs) { lastTs = ts; shown = {}; }
    shown[ts + rest] = true;
  });

  function add(line) {
    var d;
    try { d = JSON.parse(line); } catch (e) { return; }
    var ts0 = String(d.timestamp || ""), rest0 = " " + String(d.instance || "") + " " + String(d.text || "");
    if (ts0 !== lastTs) { lastTs = ts0; shown = {}; } else if (shown[ts0 + rest0]) { return; }
    shown[ts0 + rest0] = true;
    var ts = document.createElement("span");
    ts.className = "ts";
    ts.textContent = String(d.timestamp || "");
    pre.appendChild(ts);
    pre.appendChild(document.createTextNode(" " + String(d.instance || "") + " " + String(d.text || "") + "\n"));
    got = true;
    if (empty) { empty.remove(); empty = null; }
    if (d.timestamp) { url = base + "?since=" + encodeURIComponent(d.timestamp); }
    window.scrollTo(0, document.body.scrollHeight);
  }

  function follow() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/x-ndjson" } }).then(function (r) {
      if (!r.ok || !r.body) {
        return r.text().then(function (t) { status.textContent = "Stopped following: " + t; });
      }
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            delay = got ? 1000 : Math.min(delay * 2, 60000);
            got = false;
            setTimeout(follow, delay);
            return;
          }
          buf += dec.decode(chunk.value, { stream: true });
          var lines = buf.split("\n");
          buf = lines.pop();
          lines.forEach(function (l) { if (l) { add(l); } });
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      status.textContent = "Stopped following (connection lost): reload the page to follow again.";
    });
  }
  follow();
})();
