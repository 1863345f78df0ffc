// The REST API of the server that serves the console, called with the token this browser
// session signed in with (kept in sessionStorage: gone when the tab closes).

const TOKEN_KEY = "veloflux.token";

// The API is the parent of /ui/, so the console also works behind a proxy under a prefix.
const BASE = new URL("..", document.baseURI);

/** An answer other than 2xx: its status and the server's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The token of this browser session. */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

let unauthorized = () => {};

/** Calls `callback(sent)` whenever the server answers 401; `sent` is the token the refused
 * request carried (null for none). */
export function whenUnauthorized(callback) {
  unauthorized = callback;
}

/** A tagged template for routes: path`/pipelines/${id}` escapes each value it is given. */
export function path(strings, ...values) {
  return strings.reduce((text, part, index) => text + encodeURIComponent(values[index - 1]) + part);
}

/** Sends `body` (JSON) to `route`; resolves to the JSON or text answer, or rejects with an
 * ApiError carrying the server's message. */
export async function request(method, route, body) {
  const headers = {};
  const saved = token.get();
  if (saved) headers.Authorization = `Bearer ${saved}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(new URL(route.slice(1), BASE), init);
  const type = response.headers.get("Content-Type") ?? "";
  const answer = type.includes("json") ? await response.json() : await response.text();
  if (response.ok) return answer;
  const message = answer?.error?.message ?? `${response.status} ${response.statusText}`;
  if (response.status === 401) unauthorized(saved);
  throw new ApiError(response.status, message);
}

export const get = (route) => request("GET", route);
export const post = (route, body) => request("POST", route, body);
export const put = (route, body) => request("PUT", route, body);
export const remove = (route) => request("DELETE", route);
