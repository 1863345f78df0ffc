// Elements built from data with the DOM, never by parsing it as HTML: what the server sends
// (names, rows, error messages) is always text.

/** `<tag attributes>children</tag>`; `on<event>` attributes add listeners, `false` and
 * `null` ones are left out, `true` ones are set empty. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child != null && child !== false));
  return element;
}

/** A state badge: its text says the state, its colour repeats it. */
export function badge(state) {
  return h("span", { class: `badge state-${state}` }, state);
}

/** A number as people read it: grouped thousands, one decimal under ten. */
export function number(value) {
  if (value == null || Number.isNaN(value)) return "–";
  const digits = Math.abs(value) < 10 && !Number.isInteger(value) ? 1 : 0;
  return value.toLocaleString("en", { maximumFractionDigits: digits });
}

/** Milliseconds with the precision that matters at that size. */
export function millis(value) {
  if (value == null) return "–";
  return `${value.toLocaleString("en", { maximumSignificantDigits: 3 })} ms`;
}

/** A message for screen readers (and the tests), said politely. */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (region) region.textContent = message;
}

/** Runs `task` now and then `interval` ms after each run ends (runs never overlap); the
 * returned function stops it. */
export function poll(task, interval) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    try {
      await task();
    } catch (error) {
      console.error(error);
    } finally {
      if (!stopped) timer = setTimeout(run, interval);
    }
  };
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
