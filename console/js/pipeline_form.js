// "New pipeline": id, SQL over a stream, one sink and its encoder, batching options; POST
// /pipelines (and start), with the server's error shown beside the field it names.

import { get, path, post } from "./api.js";
import { announce, h } from "./dom.js";
import { clearErrors, showError } from "./errors.js";
import { FieldProblem, connectorFieldset, field, idOf, loadConnectors } from "./schema_form.js";

const SCOPE = "pipeline";

/** The streams there are, with their columns, for the writer of the SQL. */
function streamsHint(streams) {
  if (!streams.length) {
    return h(
      "p",
      { class: "hint" },
      "No stream exists yet: ",
      h("a", { href: "#/new/stream" }, "create one"),
      " first.",
    );
  }
  const columns = (stream) => stream.schema.props.columns.map((column) => column.name).join(", ");
  return h(
    "ul",
    { class: "hint streams", "aria-label": "Streams" },
    streams.map((stream) => h("li", {}, h("code", {}, stream.name), `: ${columns(stream)}`)),
  );
}

function numberInput(fieldPath) {
  return h("input", { type: "number", min: "0", step: "1", "data-path": fieldPath });
}

/** The options object, leaving out what is empty. */
function options(batchSize, linger) {
  const chosen = {};
  if (batchSize.value !== "") chosen.batch_size = Number(batchSize.value);
  if (linger.value !== "") chosen.linger_ms = Number(linger.value);
  return chosen;
}

/** Renders the form into `view`; `query.stream` picks the stream the SQL starts from. */
export async function render(view, { navigate, query }) {
  const [{ sinks, encoders }, streams] = await Promise.all([loadConnectors(), get("/streams")]);
  const stream = query.get("stream") ?? streams[0]?.name;
  const id = h("input", {
    type: "text",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "data-path": "id",
  });
  const sql = h("textarea", {
    rows: 4,
    spellcheck: "false",
    required: true,
    "data-path": "sql",
    class: "code",
  });
  sql.value = stream ? `SELECT * FROM ${stream}` : "";
  const sink = connectorFieldset(sinks, {
    legend: "Sink",
    typePath: "sinks[0].type",
    propsPath: "sinks[0].props",
    scope: SCOPE,
  });
  const encoder = connectorFieldset(encoders, {
    legend: "Encoder",
    typePath: "sinks[0].encoder.type",
    propsPath: "sinks[0].encoder.props",
    scope: SCOPE,
    optional: "json, one message per row (the default)",
  });
  const batchSize = numberInput("options.batch_size");
  const linger = numberInput("options.linger_ms");
  const start = h("input", { type: "checkbox", checked: true });
  const form = h(
    "form",
    { class: "form" },
    field({
      id: idOf(SCOPE, "id"),
      label: "Id",
      hint: "Letters, digits, _, - and .",
      control: id,
      required: true,
    }),
    field({ id: idOf(SCOPE, "sql"), label: "SQL", control: sql, required: true }),
    streamsHint(streams),
    sink.element,
    encoder.element,
    h(
      "fieldset",
      {},
      h("legend", {}, "Batching"),
      field({
        id: idOf(SCOPE, "options.batch_size"),
        label: "Batch size",
        hint: "Rows per micro-batch; the server's runtime setting when empty.",
        control: batchSize,
      }),
      field({
        id: idOf(SCOPE, "options.linger_ms"),
        label: "Linger (ms)",
        hint: "How long a batch waits to fill; the server's setting when empty.",
        control: linger,
      }),
    ),
    field({ id: idOf(SCOPE, "start"), label: "Start it once created", control: start }),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Create pipeline"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const chosenSink = sink.read();
      const encoding = encoder.read();
      if (encoding) chosenSink.encoder = encoding;
      const pipeline = {
        id: id.value,
        sql: sql.value,
        sinks: [chosenSink],
        options: options(batchSize, linger),
      };
      await post("/pipelines", pipeline);
      if (start.checked) await post(path`/pipelines/${pipeline.id}/start`);
      announce(`Pipeline ${pipeline.id} created.`);
      navigate(path`#/pipelines/${pipeline.id}`);
    } catch (error) {
      showError(form, error.message, error instanceof FieldProblem ? error.path : undefined);
    }
  });
  view.replaceChildren(h("h1", { tabindex: "-1" }, "New pipeline"), form);
}
