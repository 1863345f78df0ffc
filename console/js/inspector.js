// The live batch inspector: the rows passing one tap of a pipeline (source, filter, project or
// sink) with each column's name and Arrow type, refreshed every second until paused. While it
// is open the pipeline keeps its recent batches (POST /pipelines/{id}/debug), read as JSON
// (GET /pipelines/{id}/debug/batches); retention it turned on, it turns off when it closes.

import { ApiError, get, path, post } from "./api.js";
import { announce, h, poll } from "./dom.js";

const REFRESH_MS = 1000;
const TAPS = ["source", "filter", "project", "sink"];
const RETENTION = { enabled: true, max_batches: 16, ttl_secs: 300 };
// Retention is asked for again this long before it would end.
const RENEW_BEFORE_MS = 60_000;
const ROW_COUNTS = [20, 50, 100];

function tapChooser(chosen, onChange) {
  const radios = TAPS.map((tap) => {
    const radio = h("input", {
      type: "radio",
      name: "tap",
      value: tap,
      id: `tap-${tap}`,
      checked: tap === chosen,
    });
    radio.addEventListener("change", () => onChange(tap));
    return h("span", { class: "radio" }, radio, h("label", { for: radio.id }, tap));
  });
  return h("fieldset", { class: "inline" }, h("legend", {}, "Tap point"), radios);
}

function value(cell) {
  if (cell === null || cell === undefined) return h("span", { class: "null" }, "null");
  return typeof cell === "object" ? JSON.stringify(cell) : String(cell);
}

function rowsTable(schema, rows) {
  const header = schema.map((column) =>
    h(
      "th",
      { scope: "col" },
      h("span", { class: "column-name" }, column.name),
      h("span", { class: "column-type" }, column.type),
    ),
  );
  const body = rows.map((row) =>
    h(
      "tr",
      {},
      schema.map((column) => h("td", {}, value(row[column.name]))),
    ),
  );
  return h(
    "table",
    { class: "rows", id: "rows" },
    h("thead", {}, h("tr", {}, header)),
    h("tbody", {}, body),
  );
}

/** Keeps the pipeline's batches retained while the inspector is open; answers whether it
 * turned retention on, and the function renewing it when it is near its end. */
async function retain(id) {
  const current = await get(path`/pipelines/${id}/debug`);
  let endsAt = Date.now() + (current.expires_in_secs ?? 0) * 1000;
  const renew = async () => {
    if (Date.now() < endsAt - RENEW_BEFORE_MS) return;
    const granted = await post(path`/pipelines/${id}/debug`, RETENTION);
    endsAt = Date.now() + granted.expires_in_secs * 1000;
  };
  await renew();
  return { turnedOn: !current.enabled, renew };
}

/** Renders the inspector of pipeline `params.id` into `view`; answers the function that
 * stops it. */
export async function render(view, { params, query }) {
  const id = params.id;
  let point = TAPS.includes(query.get("point")) ? query.get("point") : "sink";
  let paused = false;
  let rowCount = ROW_COUNTS[0];
  const retention = await retain(id);
  const status = h("p", { id: "inspector-status", class: "muted" }, "Waiting for batches…");
  // One scrolling region for every refresh, so that it keeps the keyboard focus.
  const table = h("div", {
    class: "table-wrap",
    tabindex: "0",
    role: "region",
    "aria-label": "Rows at the tap",
  });
  const pause = h("button", { type: "button", id: "pause", "aria-pressed": "false" }, "Pause");
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume" : "Pause";
    announce(paused ? "Paused: the rows shown stay as they are." : "Resumed.");
  });
  const counts = h(
    "select",
    { id: "row-count" },
    ROW_COUNTS.map((count) => h("option", { value: count }, count)),
  );
  counts.addEventListener("change", () => (rowCount = Number(counts.value)));
  const choose = (tap) => {
    point = tap;
    history.replaceState(null, "", `${path`#/pipelines/${id}/inspect`}?point=${tap}`);
  };
  view.replaceChildren(
    h("h1", { tabindex: "-1" }, `Inspect ${id}`),
    h("p", {}, h("a", { href: path`#/pipelines/${id}` }, `Back to pipeline ${id}`)),
    h(
      "div",
      { class: "controls" },
      tapChooser(point, choose),
      h("div", { class: "field" }, h("label", { for: counts.id }, "Rows shown"), counts),
      pause,
    ),
    status,
    table,
  );
  const refresh = async () => {
    if (paused) return;
    try {
      await retention.renew();
      const tap = point;
      const answer = await get(
        `${path`/pipelines/${id}/debug/batches`}?point=${tap}&limit=${RETENTION.max_batches}`,
      );
      if (paused || tap !== point) return;
      const rows = answer.rows.slice(-rowCount).reverse();
      status.textContent = answer.rows.length
        ? `The last ${rows.length} of ${answer.rows.length} rows from ${answer.batches} batches at ${tap}, newest first.`
        : `No batch has passed ${tap} since the inspector opened.`;
      table.replaceChildren(rowsTable(answer.schema, rows));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.textContent = error.message;
      table.replaceChildren();
    }
  };
  const stop = poll(refresh, REFRESH_MS);
  return () => {
    stop();
    if (retention.turnedOn) post(path`/pipelines/${id}/debug`, { enabled: false }).catch(() => {});
  };
}
