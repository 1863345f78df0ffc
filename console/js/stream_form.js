// "New stream": name, columns, the source type and its props, the decoder; POST /streams,
// with the server's error shown beside the field it names.

import { post } from "./api.js";
import { announce, h } from "./dom.js";
import { showError, clearErrors } from "./errors.js";
import { FieldProblem, connectorFieldset, field, idOf, loadConnectors } from "./schema_form.js";

const SCOPE = "stream";
// The flat column types; `struct` and `list` columns need the API.
const DATA_TYPES = [
  ...["string", "int64", "float64", "bool", "timestamp", "int8", "int16", "int32"],
  ...["uint8", "uint16", "uint32", "uint64", "float32", "null"],
];

/** One column: its name and data type, and a button taking it out. */
function columnRow(index, list) {
  const path = `schema.props.columns[${index}]`;
  const name = h("input", {
    type: "text",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "data-path": `${path}.name`,
  });
  const type = h(
    "select",
    { "data-path": `${path}.data_type` },
    DATA_TYPES.map((value) => h("option", { value }, value)),
  );
  const row = h(
    "li",
    { class: "column" },
    field({ id: idOf(SCOPE, `${path}.name`), label: `Column ${index + 1} name`, control: name }),
    field({
      id: idOf(SCOPE, `${path}.data_type`),
      label: `Column ${index + 1} type`,
      control: type,
    }),
    h(
      "button",
      {
        type: "button",
        class: "quiet",
        onclick: () => {
          row.remove();
          list.focus();
        },
      },
      `Remove column ${index + 1}`,
    ),
  );
  // The server names a column by its place in the list, which removals change.
  row.read = (position) => {
    name.dataset.path = `schema.props.columns[${position}].name`;
    type.dataset.path = `schema.props.columns[${position}].data_type`;
    return { name: name.value, data_type: type.value };
  };
  return row;
}

/** The columns editor: one row to start with, and a button adding more. */
function columnsEditor() {
  const list = h("ol", {
    class: "columns",
    tabindex: "-1",
    "data-path": "schema.props.columns",
    id: idOf(SCOPE, "columns"),
  });
  let added = 0;
  const add = () => {
    const row = columnRow(added++, list);
    list.append(row);
    return row;
  };
  add();
  const element = h(
    "fieldset",
    {},
    h("legend", {}, "Columns"),
    h("p", { class: "hint" }, "The fields of each JSON message, as columns of the stream."),
    list,
    h(
      "button",
      { type: "button", onclick: () => add().querySelector("input").focus() },
      "Add column",
    ),
  );
  const read = () => [...list.children].map((row, position) => row.read(position));
  return { element, read };
}

/** Renders the form into `view`. */
export async function render(view, { navigate }) {
  const { sources, decoders } = await loadConnectors();
  const name = h("input", {
    type: "text",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "data-path": "name",
  });
  const columns = columnsEditor();
  const source = connectorFieldset(sources, {
    legend: "Source",
    typePath: "type",
    propsPath: "props",
    scope: SCOPE,
  });
  const decoder = connectorFieldset(decoders, {
    legend: "Decoder",
    typePath: "decoder.type",
    propsPath: "decoder.props",
    scope: SCOPE,
    optional: "json (the default)",
  });
  const shared = h("input", { type: "checkbox", "data-path": "shared" });
  const form = h(
    "form",
    { class: "form" },
    field({
      id: idOf(SCOPE, "name"),
      label: "Name",
      hint: "Letters, digits, _, - and .; pipelines name it in FROM.",
      control: name,
      required: true,
    }),
    columns.element,
    source.element,
    decoder.element,
    field({
      id: idOf(SCOPE, "shared"),
      label: "Shared",
      hint: "One subscription and one decode feed every pipeline reading the stream.",
      control: shared,
    }),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Create stream"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const { type, props } = source.read();
      const stream = {
        name: name.value,
        type,
        schema: { type: "json", props: { columns: columns.read() } },
        shared: shared.checked,
      };
      if (Object.keys(props).length) stream.props = props;
      const decoding = decoder.read();
      if (decoding) stream.decoder = decoding;
      await post("/streams", stream);
      announce(`Stream ${stream.name} created.`);
      navigate(`#/new/pipeline?stream=${encodeURIComponent(stream.name)}`);
    } catch (error) {
      showError(form, error.message, error instanceof FieldProblem ? error.path : undefined);
    }
  });
  view.replaceChildren(h("h1", { tabindex: "-1" }, "New stream"), form);
}
