/* personas dashboard: draws the charts whose figures the page holds as JSON
   (<div data-figure="ID"> and <script type="application/json" id="ID">), on load and
   after each HTMX swap, and adds segment changes to /live as the server sends them.
   No inline script: the pages run under a strict Content-Security-Policy. */
(function () {
  "use strict";
  function draw(root) {
    if (typeof Plotly === "undefined") return;
    (root || document).querySelectorAll("[data-figure]:not([data-drawn])").forEach(function (el) {
      var spec = JSON.parse(document.getElementById(el.dataset.figure).textContent);
      Plotly.newPlot(el, spec.data, spec.layout, { displaylogo: false, responsive: true });
      el.dataset.drawn = "1";
    });
  }

  function cell(row, text, href) {
    var td = document.createElement("td");
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    row.appendChild(td);
  }

  function follow(table) {
    var names = JSON.parse(table.dataset.names);
    var body = table.querySelector("tbody");
    var source = new EventSource(table.dataset.stream);
    function segment(id) { return id === null ? "(new user)" : id + " · " + names[id]; }
    source.addEventListener("change", function (e) {
      var c = JSON.parse(e.data);
      var row = document.createElement("tr");
      cell(row, String(c.change_id));
      row.firstChild.className = "n";
      cell(row, c.at.slice(0, 19).replace("T", " "));
      cell(row, c.user_id, "/users?user_id=" + encodeURIComponent(c.user_id));
      cell(row, segment(c.from));
      cell(row, segment(c.to));
      cell(row, c.event_id || "a re-score");
      body.insertBefore(row, body.firstChild);
      while (body.children.length > 200) body.removeChild(body.lastChild);
      var none = document.getElementById("no-changes");
      if (none) none.remove();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    document.querySelectorAll("table[data-stream]").forEach(follow);
  });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();
