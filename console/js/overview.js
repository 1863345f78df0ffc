// The overview: every pipeline with its state, rows in and out per second, errors and a chart
// of the last minutes; every stream with the pipelines reading it. Refreshed every 2 s.

import { get, path } from "./api.js";
import { badge, h, number, poll } from "./dom.js";
import { rateChart } from "./chart.js";
import { record } from "./rates.js";

const REFRESH_MS = 2000;
const PIPELINE_COLUMNS = [
  "Pipeline",
  "State",
  "Rows in/s",
  "Rows out/s",
  "Errors",
  "Rows/s, last minutes",
];
const LEGEND =
  "Rows in: rows decoded into the statement; rows out: its results. Charts: in solid, out dashed.";

// The stream each pipeline reads: asked once per pipeline, as it changes only on a replace.
const streamOf = new Map();

/** Forgets what was learnt of pipeline `id` (it was replaced or deleted). */
export function forgetStream(id) {
  streamOf.delete(id);
}

async function readStream(id) {
  if (!streamOf.has(id)) streamOf.set(id, (await get(path`/pipelines/${id}`)).stream);
  return streamOf.get(id);
}

/** A cell with the label its column heading gives it, shown beside its content (kept in one
 * box) on narrow screens. */
function cell(label, ...content) {
  return h("td", { "data-label": label }, h("span", {}, ...content));
}

/** A pipeline's row; `update` refreshes its figures in place, so that the link in it keeps
 * the keyboard focus across refreshes. */
function pipelineRow(id) {
  const state = h("span");
  const rowsIn = h("span", { class: "num rows-in" });
  const rowsOut = h("span", { class: "num rows-out" });
  const errors = h("span", { class: "num errors" });
  const chart = h("span");
  const row = h(
    "tr",
    { "data-pipeline": id },
    h("th", { scope: "row" }, h("a", { href: path`#/pipelines/${id}` }, id)),
    cell("State", state),
    cell("Rows in/s", rowsIn),
    cell("Rows out/s", rowsOut),
    cell("Errors", errors),
    cell(PIPELINE_COLUMNS[5], chart),
  );
  row.update = (status, rates) => {
    state.replaceChildren(badge(status.state));
    rowsIn.textContent = number(rates.rowsIn);
    rowsOut.textContent = number(rates.rowsOut);
    errors.textContent = number(rates.errors);
    errors.classList.toggle("bad", rates.errors > 0);
    chart.replaceChildren(rateChart(rates.points));
  };
  return row;
}

/** The pipelines table over `rows`, with its legend. */
function pipelinesTable(rows) {
  if (!rows.length) {
    return [h("p", {}, "No pipeline yet. ", h("a", { href: "#/new/pipeline" }, "Create one"), ".")];
  }
  const table = h(
    "table",
    { class: "cards", id: "pipelines" },
    h("caption", { class: "visually-hidden" }, "Pipelines"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        PIPELINE_COLUMNS.map((text) => h("th", { scope: "col" }, text)),
      ),
    ),
    h("tbody", {}, rows),
  );
  return [h("p", { class: "hint" }, LEGEND), h("div", { class: "table-wrap" }, table)];
}

function streamsTable(streams, readers) {
  if (!streams.length) {
    return h("p", {}, "No stream yet. ", h("a", { href: "#/new/stream" }, "Create one"), ".");
  }
  const readBy = (name) => {
    const ids = readers.filter((reader) => reader.stream === name).map((reader) => reader.id);
    if (!ids.length) return "no pipeline";
    return ids.flatMap((id, index) => [
      index ? ", " : "",
      h("a", { href: path`#/pipelines/${id}` }, id),
    ]);
  };
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "cards", id: "streams" },
      h("caption", { class: "visually-hidden" }, "Streams"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Stream", "Type", "Read by"].map((text) => h("th", { scope: "col" }, text)),
        ),
      ),
      h(
        "tbody",
        {},
        streams.map((stream) =>
          h(
            "tr",
            { "data-stream": stream.name },
            h("th", { scope: "row" }, stream.name),
            cell("Type", stream.type),
            cell("Read by", readBy(stream.name)),
          ),
        ),
      ),
    ),
  );
}

/** Renders the overview into `view`; answers the function that stops its refreshing. */
export function render(view) {
  const pipelinesSection = section("pipelines", "Pipelines");
  const streamsSection = section("streams", "Streams");
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  view.replaceChildren(
    h("h1", { tabindex: "-1" }, "Overview"),
    problem,
    pipelinesSection,
    streamsSection,
  );
  const rows = new Map();
  let shown = { pipelines: null, streams: null };
  const refresh = async () => {
    try {
      const [pipelines, streams] = await Promise.all([get("/pipelines"), get("/streams")]);
      const statuses = await Promise.all(
        pipelines.map((one) => get(path`/pipelines/${one.id}/status`)),
      );
      const readers = await Promise.all(
        pipelines.map(async (one) => ({ id: one.id, stream: await readStream(one.id) })),
      );
      pipelines.forEach((one, index) => {
        if (!rows.has(one.id)) rows.set(one.id, pipelineRow(one.id));
        rows.get(one.id).update(statuses[index], record(one.id, statuses[index]));
      });
      for (const id of rows.keys()) {
        if (!pipelines.some((one) => one.id === id)) rows.delete(id);
      }
      // The tables are rebuilt only when what they list changes.
      const listed = JSON.stringify(pipelines.map((one) => one.id));
      if (listed !== shown.pipelines) {
        const current = pipelines.map((one) => rows.get(one.id));
        pipelinesSection.replaceChildren(pipelinesSection.firstChild, ...pipelinesTable(current));
      }
      const read = JSON.stringify([streams.map((one) => [one.name, one.type]), readers]);
      if (read !== shown.streams) {
        streamsSection.replaceChildren(streamsSection.firstChild, streamsTable(streams, readers));
      }
      shown = { pipelines: listed, streams: read };
      problem.hidden = true;
    } catch (error) {
      problem.textContent = `The server did not answer: ${error.message}`;
      problem.hidden = false;
    }
  };
  return poll(refresh, REFRESH_MS);
}

function section(name, title) {
  const heading = h("h2", { id: `${name}-heading` }, title);
  return h("section", { "aria-labelledby": heading.id }, heading);
}
