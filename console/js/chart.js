// Small line charts of the rates of the last minutes, drawn as SVG.

import { WINDOW_MS } from "./rates.js";
import { number } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
// The shortest span drawn: a few seconds of history do not fill the whole width.
const MIN_SPAN_MS = 30_000;

function svg(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

/** Rows in (solid) and rows out (dashed) per second over the history kept (at most the
 * window), on one scale; the chart's accessible name says the latest figures. */
export function rateChart(points, { width = 160, height = 36 } = {}) {
  const now = Date.now();
  const span = Math.min(WINDOW_MS, Math.max(MIN_SPAN_MS, now - (points[0]?.at ?? now)));
  const top = Math.max(1, ...points.flatMap((point) => [point.rowsIn, point.rowsOut]));
  const x = (at) => (((at - (now - span)) / span) * width).toFixed(1);
  const y = (value) => (height - 2 - (value / top) * (height - 4)).toFixed(1);
  const latest = points.at(-1);
  const label = latest
    ? `Rows per second over the last ${Math.round(span / 1000)} seconds: ` +
      `${number(latest.rowsIn)} in, ${number(latest.rowsOut)} out, at most ${number(top)}`
    : "Rows per second: no figures yet";
  const chart = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": label,
    preserveAspectRatio: "none",
  });
  const title = svg("title", {});
  title.textContent = label;
  chart.append(
    title,
    svg("line", { class: "axis", x1: 0, x2: width, y1: height - 1, y2: height - 1 }),
  );
  for (const [key, line] of [
    ["rowsIn", "in"],
    ["rowsOut", "out"],
  ]) {
    const coordinates = points.map((point) => `${x(point.at)},${y(point[key])}`).join(" ");
    chart.append(svg("polyline", { class: line, points: coordinates }));
  }
  return chart;
}
