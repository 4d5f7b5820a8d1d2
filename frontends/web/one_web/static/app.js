// OpenNebula-py web dashboard: polling with ETags (htmx) and the plots (uPlot).
// No inline scripts anywhere: the Content-Security-Policy allows only files from /static.
"use strict";

// A live part carries the ETag of what it shows; the poll sends it back and a
// 304 (see the htmx-config meta: no swap) leaves the part untouched.
document.addEventListener("htmx:configRequest", (event) => {
  const etag = event.detail.elt.dataset.etag;
  if (etag) {
    event.detail.headers["If-None-Match"] = etag;
  }
});

const SERIES = {
  cpu: { keys: ["max_cpu", "cpu_usage", "used_cpu"], scale: 1 },
  mem: { keys: ["max_mem", "mem_usage", "used_mem"], scale: 1 / 1024 },
};
const LABELS = { max_cpu: "total", cpu_usage: "allocated", used_cpu: "used",
                 max_mem: "total", mem_usage: "allocated", used_mem: "used" };
const COLOURS = ["#555", "#0b5cad", "#b8460b"];

function chartData(json, kind) {
  const spec = SERIES[kind];
  return [json.time, ...spec.keys.map((k) => json[k].map((v) => v * spec.scale))];
}

function chartOptions(figure, kind) {
  const width = Math.max(260, Math.min(figure.clientWidth || 600, 900));
  return {
    width: width,
    height: 220,
    series: [{}, ...SERIES[kind].keys.map((k, i) => ({ label: LABELS[k], stroke: COLOURS[i], width: 2 }))],
    axes: [{}, { size: 60 }],
  };
}

async function drawChart(figure) {
  const kind = figure.dataset.chart;
  let json;
  try {
    const response = await fetch(figure.dataset.chartSrc, { credentials: "same-origin" });
    if (!response.ok) return;
    json = await response.json();
  } catch (e) {
    return;
  }
  const data = chartData(json, kind);
  figure.dataset.points = String(json.time.length);
  if (figure.plot) {
    figure.plot.setData(data);
  } else {
    figure.plot = new uPlot(chartOptions(figure, kind), data, figure);
  }
}

function drawCharts() {
  document.querySelectorAll("figure[data-chart-src]").forEach(drawChart);
}

document.addEventListener("DOMContentLoaded", () => {
  drawCharts();
  setInterval(drawCharts, 5000);
});
