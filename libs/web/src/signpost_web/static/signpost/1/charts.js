/*
 * Signpost page kit: draws each <canvas data-chart="ID"> from the JSON data block
 * <script type="application/json" id="ID">{"type": "bar", "labels": [...], "datasets": [...], ...}</script>
 * with the vendored Chart.js (window.Chart). Served by the service itself, so the page's CSP stays 'self'
 * with no inline script. A chart only decorates: the same figures are in an accessible table beside it,
 * and without JavaScript (or without this file) the page loses nothing but the picture.
 * Bump the directory number (1) when this file changes: the kit serves it with an immutable cache.
 */
(function () {
  "use strict";
  // NHS.UK colour palette: blue, dark blue, green, warm yellow, purple, aqua green, grey, red.
  var COLOURS = ["#005eb8", "#003087", "#007f3b", "#ffb81c", "#330072", "#00a499", "#768692", "#d5281b"];

  function draw(canvas) {
    var block = document.getElementById(canvas.getAttribute("data-chart"));
    if (!block || !window.Chart) {
      return;
    }
    var spec = JSON.parse(block.textContent);
    var datasets = spec.datasets.map(function (dataset, index) {
      var colour = COLOURS[index % COLOURS.length];
      return { label: dataset.label, data: dataset.data, backgroundColor: colour, borderColor: colour };
    });
    var horizontal = spec.horizontal === true;
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: spec.aspectRatio || 2,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: datasets.length > 1 } },
        scales: {
          x: { stacked: spec.stacked === true, beginAtZero: true },
          y: { stacked: spec.stacked === true, beginAtZero: true },
        },
      },
    });
    canvas.setAttribute("data-chart-drawn", "true");
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
