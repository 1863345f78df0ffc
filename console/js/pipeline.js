// A pipeline's page: its state with start, stop and delete; its SQL, checked by the server
// while it is edited and before it is saved; its plan; each stage's counters with batch times
// and last error; its connections. Refreshed every 2 s.

import { ApiError, get, path, post, put, remove } from "./api.js";
import { announce, badge, h, millis, number, poll } from "./dom.js";
import { rateChart } from "./chart.js";
import { forget, record } from "./rates.js";
import { forgetStream } from "./overview.js";

const REFRESH_MS = 2000;
const CHECK_DELAY_MS = 400;

const STAGE_COLUMNS = [
  "Stage",
  "Rows in",
  "Rows out",
  "Errors",
  "Batches",
  "p50 batch",
  "p99 batch",
  "Last error",
];

function stageRow(stage) {
  const stats = stage.stats;
  const cells = [
    number(stats.records_in),
    number(stats.records_out),
    number(stats.error_count),
    number(stats.batches),
    millis(stats.p50_batch_ms),
    millis(stats.p99_batch_ms),
    stats.last_error ?? "–",
  ];
  return h(
    "tr",
    { "data-stage": stage.processor_id },
    h("th", { scope: "row" }, stage.processor_id),
    cells.map((text, index) => h("td", { "data-label": STAGE_COLUMNS[index + 1] }, text)),
  );
}

function stagesTable() {
  const body = h("tbody");
  const table = h(
    "table",
    { class: "cards", id: "stages" },
    h("caption", { class: "visually-hidden" }, "Counters per stage"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        STAGE_COLUMNS.map((text) => h("th", { scope: "col" }, text)),
      ),
    ),
    body,
  );
  const region = {
    class: "table-wrap",
    tabindex: "0",
    role: "region",
    "aria-label": "Counters per stage",
  };
  return { element: h("div", region, table), body };
}

function section(name, title, ...content) {
  const heading = h("h2", { id: `${name}-heading` }, title);
  return h("section", { "aria-labelledby": heading.id }, heading, ...content);
}

/** The SQL editor: every edit is explained by the server after a pause, without saving;
 * Save replaces the pipeline. `onPlan(text, saved)` shows the plan of the edit or of the
 * saved statement. */
function statementForm(id, pipeline, onPlan, onSaved) {
  let spec = pipeline.spec;
  const sql = h("textarea", {
    rows: 5,
    spellcheck: "false",
    class: "code",
    "aria-describedby": "sql-check",
  });
  sql.id = "sql";
  sql.value = spec.sql;
  const verdict = h("p", { id: "sql-check", class: "check", "aria-live": "polite" });
  const say = (message, good) => {
    verdict.textContent = message;
    verdict.className = good ? "check good" : "check bad";
    if (good) sql.removeAttribute("aria-invalid");
    else sql.setAttribute("aria-invalid", "true");
  };
  const edited = () => ({ ...spec, sql: sql.value });
  let timer = null;
  let asked = 0;
  const check = async () => {
    const ask = ++asked;
    try {
      const plan = await post(path`/pipelines/${id}/explain`, edited());
      if (ask !== asked) return;
      say(sql.value === spec.sql ? "The saved statement." : "Valid: save to apply it.", true);
      onPlan(plan, sql.value === spec.sql);
    } catch (error) {
      if (ask === asked && error instanceof ApiError) say(error.message, false);
    }
  };
  sql.addEventListener("input", () => {
    clearTimeout(timer);
    // Emptied rather than "checking…": the live region would announce every keystroke.
    verdict.textContent = "";
    timer = setTimeout(check, CHECK_DELAY_MS);
  });
  const save = async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    asked++;
    try {
      const saved = await put(path`/pipelines/${id}`, edited());
      spec = saved.spec;
      forgetStream(id);
      say(saved.status === "running" ? "Saved: the pipeline restarted with it." : "Saved.", true);
      onSaved(spec);
    } catch (error) {
      say(error.message, false);
      sql.focus();
    }
  };
  const revert = () => {
    sql.value = spec.sql;
    sql.dispatchEvent(new Event("input"));
  };
  return h(
    "form",
    { class: "form", onsubmit: save },
    h("div", { class: "field" }, h("label", { for: "sql" }, "SQL"), sql, verdict),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Save"),
      h("button", { type: "button", onclick: revert }, "Revert"),
    ),
  );
}

function connectionsList(connectors) {
  if (!connectors.length) return h("p", { class: "muted" }, "No connection to a broker.");
  return h(
    "ul",
    { class: "plain" },
    connectors.map((one) =>
      h(
        "li",
        {},
        `${one.name}: ${one.connected ? "connected" : "not connected"}, ${one.reconnects} reconnects`,
      ),
    ),
  );
}

/** Renders the page of pipeline `params.id` into `view`; answers the function that stops its
 * refreshing. */
export async function render(view, { params, navigate }) {
  const id = params.id;
  const [pipeline, explain] = await Promise.all([
    get(path`/pipelines/${id}`),
    get(path`/pipelines/${id}/explain`),
  ]);
  const state = h("span", { id: "state" }, badge(pipeline.status));
  const uptime = h("span", { class: "muted" });
  const lastError = h("p", { class: "form-error", id: "last-error", hidden: true });
  const start = h("button", { type: "button", id: "start" }, "Start");
  const stop = h("button", { type: "button", id: "stop" }, "Stop");
  const showState = (value) => {
    state.replaceChildren(badge(value));
    // The button just pressed is disabled by its own effect: the focus moves to the other.
    for (const [button, off, other] of [
      [start, "running", stop],
      [stop, "stopped", start],
    ]) {
      const disable = value === off;
      if (disable && document.activeElement === button) other.focus();
      button.disabled = disable;
    }
  };
  const act = async (verb) => {
    try {
      const answer = await post(path`/pipelines/${id}/${verb}`);
      showState(answer.status);
      announce(`Pipeline ${id} is ${answer.status}.`);
    } catch (error) {
      announce(error.message);
    }
  };
  start.addEventListener("click", () => act("start"));
  stop.addEventListener("click", () => act("stop"));
  const erase = async () => {
    if (!window.confirm(`Delete pipeline ${id}? It stops, and its spec is removed.`)) return;
    await remove(path`/pipelines/${id}`);
    forget(id);
    forgetStream(id);
    announce(`Pipeline ${id} deleted.`);
    navigate("#/");
  };
  const planHeading = h("h2", { id: "plan-heading" }, "Plan");
  const plan = h("pre", { id: "plan", tabindex: "0", "aria-labelledby": "plan-heading" }, explain);
  const showPlan = (text, saved) => {
    planHeading.textContent = saved ? "Plan" : "Plan of the edited statement (not saved)";
    plan.textContent = text;
  };
  const specText = h("pre", {}, JSON.stringify(pipeline.spec, null, 2));
  const saved = async (spec) => {
    specText.textContent = JSON.stringify(spec, null, 2);
    showPlan(await get(path`/pipelines/${id}/explain`), true);
  };
  const stages = stagesTable();
  const rates = h("p", { class: "rates" });
  const chart = h("div", { class: "chart-wrap" });
  const connections = h("div");
  showState(pipeline.status);
  view.replaceChildren(
    h("h1", { tabindex: "-1" }, `Pipeline ${id}`),
    h(
      "p",
      { class: "status-line" },
      state,
      " ",
      uptime,
      " reading stream ",
      h("code", {}, pipeline.stream),
    ),
    h(
      "div",
      { class: "actions" },
      start,
      stop,
      h("a", { class: "button", href: path`#/pipelines/${id}/inspect` }, "Inspect rows"),
      h("button", { type: "button", class: "danger", onclick: erase }, "Delete"),
    ),
    lastError,
    section("statement", "Statement", statementForm(id, pipeline, showPlan, saved)),
    h("section", { "aria-labelledby": "plan-heading" }, planHeading, plan),
    section("rates", "Rows per second", rates, chart),
    section("stages", "Stages", stages.element),
    section("connections", "Connections", connections),
    section("spec", "Spec", h("details", {}, h("summary", {}, "The spec as JSON"), specText)),
  );
  const refresh = async () => {
    const status = await get(path`/pipelines/${id}/status`);
    showState(status.state);
    uptime.textContent = status.state === "running" ? `for ${number(status.uptime_secs)} s,` : "";
    lastError.hidden = !status.last_error;
    lastError.textContent = status.last_error ? `Last error: ${status.last_error}` : "";
    const figures = record(id, status);
    rates.textContent = `${number(figures.rowsIn)} in, ${number(figures.rowsOut)} out, ${number(figures.errors)} errors so far.`;
    chart.replaceChildren(rateChart(figures.points, { width: 480, height: 80 }));
    stages.body.replaceChildren(...status.stages.map(stageRow));
    connections.replaceChildren(connectionsList(status.connectors));
  };
  return poll(refresh, REFRESH_MS);
}
