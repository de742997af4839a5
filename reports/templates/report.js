// tulu-eval report: sortable leaderboard and instance filters. Plain JS, no requests.
(function () {
  "use strict";
  function cellKey(row, col, type) {
    var cell = row.cells[col];
    var v = cell ? cell.getAttribute("data-v") : "";
    if (type === "text") { return (v || "").toLowerCase(); }
    return v === "" || v === null ? null : parseFloat(v);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th[data-col]");
    heads.forEach(function (th) {
      th.addEventListener("click", function () {
        var col = parseInt(th.getAttribute("data-col"), 10);
        var type = th.getAttribute("data-type") || "num";
        // numbers: largest first on the first click; text: A to Z
        var first = type === "text" ? "ascending" : "descending";
        var cur = th.getAttribute("aria-sort");
        var dir = cur ? (cur === "ascending" ? "descending" : "ascending") : first;
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir);
        var sign = dir === "ascending" ? 1 : -1;
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.forEach(function (r, i) { r._i = i; });
        rows.sort(function (a, b) {
          var x = cellKey(a, col, type), y = cellKey(b, col, type);
          if (x === null && y === null) { return a._i - b._i; }
          if (x === null) { return 1; }  // missing values stay at the bottom
          if (y === null) { return -1; }
          if (x < y) { return -sign; }
          if (x > y) { return sign; }
          return a._i - b._i;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  function applyFilter(box) {
    var task = box.getAttribute("data-task");
    var entry = box.querySelector(".f-entry").value;
    var verdict = box.querySelector(".f-verdict").value;
    var text = box.querySelector(".f-text").value.trim().toLowerCase();
    var list = document.querySelector('.instances[data-task="' + CSS.escape(task) + '"]');
    var shown = 0, total = 0;
    list.querySelectorAll("details.inst").forEach(function (el) {
      total += 1;
      var ok = (!entry || el.getAttribute("data-entry") === entry) &&
               (!verdict || el.getAttribute("data-verdict") === verdict) &&
               (!text || el.textContent.toLowerCase().indexOf(text) !== -1);
      el.hidden = !ok;
      if (ok) { shown += 1; }
    });
    box.querySelector(".f-count").textContent = shown + " of " + total + " listed instances";
  }
  document.querySelectorAll(".filters").forEach(function (box) {
    box.querySelectorAll("select, input").forEach(function (el) {
      el.addEventListener("input", function () { applyFilter(box); });
      el.addEventListener("change", function () { applyFilter(box); });
    });
    applyFilter(box);
  });

  // a link to #task-x opens that task's drill-down
  function openFromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openFromHash);
  document.querySelectorAll('a[href^="#task-"]').forEach(function (a) {
    a.addEventListener("click", function () {
      var el = document.getElementById(a.getAttribute("href").slice(1));
      if (el) { el.open = true; }
    });
  });
  openFromHash();
})();
