// The server's error shown beside the field it names. Its messages start with the path of
// the field: "props.qos: ...", "sinks[0].props.url 'x' must ...", "sql: unknown column ...";
// JSON of the wrong shape is prefixed by the JSON extractor's own sentence.

import { h } from "./dom.js";

const EXTRACTOR_PREFIX = /^Failed to deserialize the JSON body into the target type: /;
const FIELD_PATH = /^([A-Za-z_]\w*(?:\[\d+\])?(?:\.[A-Za-z_]\w*(?:\[\d+\])?)*)(?=[:\s])/;

/** The path of the field an error message names, if it starts with one. */
export function fieldPath(message) {
  return message.replace(EXTRACTOR_PREFIX, "").match(FIELD_PATH)?.[1] ?? null;
}

/** The control of `form` for `path`, or for the nearest path above it that has one
 * (`props.jetstream.stream` is in the `props.jetstream` field). */
function controlFor(form, path) {
  for (let candidate = path; candidate; candidate = parent(candidate)) {
    const control = form.querySelector(`[data-path="${CSS.escape(candidate)}"]`);
    if (control) return control;
  }
  return null;
}

function parent(path) {
  const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
  return cut > 0 ? path.slice(0, cut) : null;
}

/** Removes the errors shown in `form`. */
export function clearErrors(form) {
  form.querySelectorAll(".field-error, .form-error").forEach((element) => element.remove());
  form.querySelectorAll("[aria-invalid]").forEach((control) => {
    control.removeAttribute("aria-invalid");
    const described = (control.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .filter((id) => id && !id.endsWith("-error"));
    if (described.length) control.setAttribute("aria-describedby", described.join(" "));
    else control.removeAttribute("aria-describedby");
  });
}

/** Shows `message` at the top of `form` and beside the field it names, which takes the
 * focus. */
export function showError(form, message, path = fieldPath(message)) {
  clearErrors(form);
  form.prepend(h("p", { class: "form-error", role: "alert" }, message));
  const control = path && controlFor(form, path);
  if (!control) return;
  const id = `${control.id}-error`;
  control.closest(".field")?.append(h("p", { class: "field-error", id }, message));
  control.setAttribute("aria-invalid", "true");
  const described = control.getAttribute("aria-describedby");
  control.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
  control.focus();
}
