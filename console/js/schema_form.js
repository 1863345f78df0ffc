// Form fields built from the JSON schema of a connector's props (GET /connectors), and the
// props read back from them. What a schema describes too loosely for a plain control (an
// object, a list, a choice of shapes) is a JSON text area.

import { get } from "./api.js";
import { h } from "./dom.js";

const SECRET = /password|token|secret/;

let connectors = null;

/** GET /connectors, asked once per page load. */
export function loadConnectors() {
  connectors ??= get("/connectors").catch((error) => {
    connectors = null;
    throw error;
  });
  return connectors;
}

/** A value the form cannot send, and the field holding it. */
export class FieldProblem extends Error {
  constructor(path, message) {
    super(message);
    this.path = path;
  }
}

/** A labelled field: the control, with its description as a hint read with it. */
export function field({ id, label, hint, control, required = false }) {
  control.id = id;
  const hintId = `${id}-hint`;
  if (hint) control.setAttribute("aria-describedby", hintId);
  const check = control.type === "checkbox";
  const labelled = h(
    "label",
    { for: id },
    label,
    // Said visibly; screen readers say "required" from the control itself.
    required ? h("span", { class: "required", "aria-hidden": "true" }, " (required)") : null,
  );
  return h(
    "div",
    { class: check ? "field check" : "field" },
    check ? [control, labelled] : [labelled, control],
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
}

/** `path` made into an element id under `scope`. */
export function idOf(scope, path) {
  return `${scope}-${path.replace(/[^\w-]+/g, "-")}`;
}

function choicesOf(schema) {
  if (schema.enum) return schema.enum.filter((value) => value !== null);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives?.every((one) => one.enum || one.type === "null")) {
    return alternatives.flatMap((one) => one.enum ?? []).filter((value) => value !== null);
  }
  return null;
}

function kindOf(schema) {
  const types = [schema.type ?? []].flat();
  if (choicesOf(schema)) return "choice";
  if (types.includes("boolean")) return "choice";
  if (types.includes("integer") || types.includes("number")) return "number";
  if (types.length && types.every((type) => type === "string" || type === "null")) return "text";
  return "json";
}

function select(options, required, fallback) {
  const unset = fallback == null ? "default" : `default: ${fallback}`;
  return h(
    "select",
    {},
    required ? null : h("option", { value: "" }, unset),
    options.map((value) => h("option", { value: JSON.stringify(value) }, String(value))),
  );
}

/** The control for one property, and how to read its value (undefined: leave it out). */
function control(name, schema, required, path) {
  const fallback = schema.default;
  const placeholder = fallback == null ? null : String(fallback);
  switch (kindOf(schema)) {
    case "choice": {
      const element = select(choicesOf(schema) ?? [true, false], required, fallback);
      return { element, read: () => (element.value ? JSON.parse(element.value) : undefined) };
    }
    case "number": {
      const integer = [schema.type].flat().includes("integer");
      const element = h("input", {
        type: "number",
        step: integer ? "1" : "any",
        min: schema.minimum,
        placeholder,
        required,
      });
      return { element, read: () => (element.value === "" ? undefined : Number(element.value)) };
    }
    case "text": {
      const type = SECRET.test(name) ? "password" : "text";
      const element = h("input", {
        type,
        autocomplete: "off",
        spellcheck: "false",
        placeholder,
        required,
      });
      return { element, read: () => (element.value === "" ? undefined : element.value) };
    }
    default: {
      const element = h("textarea", {
        rows: 3,
        spellcheck: "false",
        placeholder: "JSON",
        required,
      });
      const read = () => {
        if (element.value.trim() === "") return undefined;
        try {
          return JSON.parse(element.value);
        } catch (error) {
          throw new FieldProblem(path, `${path}: not JSON (${error.message})`);
        }
      };
      return { element, read };
    }
  }
}

/** Fields for the properties of `schema`, required ones first, at `prefix.<name>`. */
function propsFields(schema, prefix, scope) {
  const required = new Set(schema.required ?? []);
  const properties = Object.entries(schema.properties ?? {}).sort(
    ([a], [b]) => required.has(b) - required.has(a),
  );
  const inputs = properties.map(([name, property]) => {
    const path = `${prefix}.${name}`;
    const { element, read } = control(name, property, required.has(name), path);
    element.dataset.path = path;
    const hint = property.description?.replace(/\s+/g, " ");
    const id = idOf(scope, path);
    return {
      name,
      read,
      field: field({ id, label: name, hint, control: element, required: required.has(name) }),
    };
  });
  const element = inputs.length
    ? h(
        "div",
        { class: "props" },
        inputs.map((input) => input.field),
      )
    : h("p", { class: "muted" }, "This type takes no props.");
  const read = () =>
    Object.fromEntries(
      inputs.map((input) => [input.name, input.read()]).filter(([, value]) => value !== undefined),
    );
  return { element, read };
}

/** A fieldset choosing one of `kinds` (a role of GET /connectors) and filling in its props;
 * `optional` adds a first choice that leaves the whole thing out (the server's default).
 * `read()` answers `{type, props}`, or null for that first choice. */
export function connectorFieldset(kinds, { legend, typePath, propsPath, scope, optional }) {
  const typeSelect = h(
    "select",
    { "data-path": typePath },
    optional ? h("option", { value: "" }, optional) : null,
    kinds.map((kind) => h("option", { value: kind.type }, kind.type)),
  );
  const description = h("p", { class: "hint", id: `${idOf(scope, typePath)}-hint` });
  const slot = h("div");
  let props = null;
  const change = () => {
    const kind = kinds.find((one) => one.type === typeSelect.value);
    description.textContent = kind?.description ?? "";
    props = kind ? propsFields(kind.props, propsPath, scope) : null;
    slot.replaceChildren(props ? props.element : "");
  };
  typeSelect.addEventListener("change", change);
  const typeField = field({ id: idOf(scope, typePath), label: "Type", control: typeSelect });
  typeField.querySelector("select").setAttribute("aria-describedby", description.id);
  typeField.append(description);
  change();
  return {
    element: h("fieldset", {}, h("legend", {}, legend), typeField, slot),
    select: typeSelect,
    read: () => (props ? { type: typeSelect.value, props: props.read() } : null),
  };
}
