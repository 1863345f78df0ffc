// The console's entry: routes the address's #fragment to a page, asks for the token when the
// server wants one, and keeps the navigation in step.

import { ApiError, token, whenUnauthorized } from "./api.js";
import { h } from "./dom.js";
import { field } from "./schema_form.js";
import * as overview from "./overview.js";
import * as pipeline from "./pipeline.js";
import * as inspector from "./inspector.js";
import * as streamForm from "./stream_form.js";
import * as pipelineForm from "./pipeline_form.js";

// Each page's `render(view, {params, query, navigate})` fills `view` and may answer a
// function that stops what it keeps doing (polling).
const ROUTES = [
  [/^#\/?$/, overview, () => "Overview"],
  [/^#\/pipelines\/([^/]+)$/, pipeline, (id) => `Pipeline ${id}`],
  [/^#\/pipelines\/([^/]+)\/inspect$/, inspector, (id) => `Inspect ${id}`],
  [/^#\/new\/stream$/, streamForm, () => "New stream"],
  [/^#\/new\/pipeline$/, pipelineForm, () => "New pipeline"],
];

const main = document.getElementById("main");
const signOut = document.getElementById("sign-out");
let stopPage = null;
// Which navigation is the latest: a page still loading when another is asked for is dropped.
let generation = 0;

function navigate(hash) {
  if (location.hash === hash) show(true);
  else location.hash = hash;
}

function leavePage() {
  generation++;
  stopPage?.();
  stopPage = null;
}

function markCurrent(route) {
  for (const link of document.querySelectorAll("nav a")) {
    const current = link.getAttribute("href") === (route === "#" ? "#/" : route);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function problemPage(error) {
  return [
    h("h1", { tabindex: "-1" }, "Something went wrong"),
    h("p", { class: "form-error", role: "alert" }, error.message),
    h("p", {}, h("a", { href: "#/" }, "Back to the overview")),
  ];
}

/** Shows the page the address names; `moved` (a navigation, not the first load) puts the
 * keyboard focus on its heading. */
async function show(moved) {
  leavePage();
  const rendering = generation;
  signOut.hidden = !token.get();
  const [route, search = ""] = (location.hash || "#/").split("?");
  markCurrent(route);
  const match = ROUTES.find(([pattern]) => pattern.test(route));
  if (!match) {
    main.replaceChildren(...problemPage(new Error(`No page at ${route}.`)));
    return;
  }
  const [pattern, page, title] = match;
  const id = route.match(pattern)[1];
  const params = id ? { id: decodeURIComponent(id) } : {};
  document.title = `${title(params.id)} · veloFlux`;
  const view = h("div", { class: "page" });
  let stop = null;
  try {
    stop = await page.render(view, { params, query: new URLSearchParams(search), navigate });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    view.replaceChildren(...problemPage(error));
  }
  if (rendering !== generation) {
    stop?.();
    return;
  }
  stopPage = stop;
  main.replaceChildren(view);
  if (moved) view.querySelector("h1")?.focus();
}

/** The sign-in form; `refused` says the token offered was wrong. */
function showSignIn(refused) {
  leavePage();
  signOut.hidden = true;
  markCurrent(null);
  document.title = "Sign in · veloFlux";
  const input = h("input", {
    type: "password",
    autocomplete: "off",
    required: true,
    "aria-invalid": refused ? "true" : null,
  });
  const form = h(
    "form",
    { class: "form signin" },
    refused
      ? h("p", { class: "form-error", role: "alert" }, "The server refused this token.")
      : null,
    field({
      id: "token",
      label: "API token",
      hint: "The token the server was started with (server.auth_token). Kept for this tab only.",
      control: input,
      required: true,
    }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    token.set(input.value);
    show(true);
  });
  main.replaceChildren(h("h1", {}, "Sign in"), form);
  input.focus();
}

whenUnauthorized((sent) => {
  // A refusal of a token no longer in use (signed out, or replaced since) changes nothing,
  // and several requests of a page refused at once show the form once.
  if (sent !== token.get()) return;
  if (sent === null && document.getElementById("token")) return;
  token.clear();
  showSignIn(sent !== null);
});

signOut.addEventListener("click", () => {
  token.clear();
  showSignIn(false);
});

window.addEventListener("hashchange", () => show(true));
show(false);
