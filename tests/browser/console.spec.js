// The web console used as a person uses it, in a real browser against the real server and a
// real broker: sign in, create a stream and a pipeline through the forms, publish messages,
// watch the counters rise and the rows pass in the inspector, see a bad statement refused
// before it is saved, stop and delete the pipeline; an accessibility check of every page;
// the overview's screenshot for docs/img/console.png.

const path = require("node:path");
const { test, expect } = require("@playwright/test");
const AxeBuilder = require("@axe-core/playwright").default;
const { mqttClient } = require("./mqtt.js");

const TOKEN = process.env.VELOFLUX_TOKEN;
const BROKER = process.env.VELOFLUX_BROKER;
const SCREENSHOT = path.join(__dirname, "..", "..", "docs", "img", "console.png");
const TOPIC = `console-test/${process.pid}/sensors`;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
// The screenshot's frame: the overview's tables, without the empty page under them.
const SCREENSHOT_FRAME = { width: 1100, height: 460 };

test.describe.configure({ mode: "serial" });

let context;
let page;
let broker;
let publishing = null;
// Script errors and Content-Security-Policy refusals, of the whole run.
const scriptProblems = [];

/** Publishes a reading every 100 ms until `stopPublishing`, so that rates are above zero. */
function startPublishing() {
  let sequence = 0;
  publishing = setInterval(() => {
    sequence += 1;
    broker.publish(TOPIC, { device: `d${sequence % 3}`, temp: 15 + (sequence % 10) });
  }, 100);
}

function stopPublishing() {
  clearInterval(publishing);
  publishing = null;
}

/** The serious and critical accessibility violations of the page as it is. */
async function seriousViolations() {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => ["serious", "critical"].includes(violation.impact))
    .map(
      (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target).join(", ")}`,
    );
}

/** What the server holds at a tap of a pipeline, read past the console. */
async function retainedAt(pipeline, point) {
  const answer = await page.request.get(`/pipelines/${pipeline}/debug/batches?point=${point}`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  return answer.json();
}

/** Presses Tab until `locator` has the focus; fails if it is not reached within `limit`. */
async function tabTo(locator, limit = 40) {
  for (let presses = 0; presses < limit; presses++) {
    if (await locator.evaluate((element) => element === document.activeElement)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`${locator} is not reached by Tab`);
}

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext();
  page = await context.newPage();
  page.on("pageerror", (error) => scriptProblems.push(error.message));
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) scriptProblems.push(message.text());
  });
  broker = await mqttClient(BROKER);
});

test.afterAll(async () => {
  stopPublishing();
  await broker?.close();
  await context?.close();
});

test("asks for the token, refuses a wrong one and signs in by keyboard", async () => {
  await page.goto("/ui/");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  expect(await seriousViolations()).toEqual([]);
  const tokenField = page.getByLabel("API token");
  await expect(tokenField).toBeFocused();
  await page.keyboard.type("not-the-token");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("alert")).toHaveText("The server refused this token.");
  await tokenField.fill(TOKEN);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(page.getByText("No pipeline yet.")).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.getItem("veloflux.token"))).toBe(TOKEN);
});

test("creates a stream through its form, the server's error shown at the field it names", async () => {
  await page.getByRole("link", { name: "New stream" }).click();
  await expect(page.getByRole("heading", { name: "New stream" })).toBeVisible();
  expect(await seriousViolations()).toEqual([]);
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("sensors");
  await page.getByLabel("Column 1 name").fill("device");
  await page.getByLabel("Column 1 type").selectOption("string");
  await page.getByRole("button", { name: "Add column" }).click();
  await expect(page.getByLabel("Column 2 name")).toBeFocused();
  await page.keyboard.type("temp");
  await page.getByLabel("Column 2 type").selectOption("float64");
  const source = page.getByRole("group", { name: "Source" });
  await source.getByLabel("Type").selectOption("mqtt");
  const brokerUrl = source.getByLabel("broker_url");
  await brokerUrl.fill("localhost");
  await source.getByLabel("topic").fill(TOPIC);
  await page.getByRole("button", { name: "Create stream" }).click();
  const fieldError = page.locator("#stream-props-broker_url-error");
  await expect(fieldError).toContainText("props.broker_url 'localhost' needs a scheme");
  await expect(brokerUrl).toHaveAttribute("aria-invalid", "true");
  await expect(brokerUrl).toBeFocused();
  expect(await seriousViolations()).toEqual([]);
  await brokerUrl.fill(BROKER);
  await page.getByRole("button", { name: "Create stream" }).click();
  await expect(page.getByRole("heading", { name: "New pipeline" })).toBeVisible();
});

test("creates and starts a pipeline through its form", async () => {
  expect(await seriousViolations()).toEqual([]);
  const sql = page.getByRole("textbox", { name: "SQL", exact: true });
  await expect(sql).toHaveValue("SELECT * FROM sensors");
  await page.getByRole("textbox", { name: "Id", exact: true }).fill("hot-sensors");
  await sql.fill("SELECT device, temp FROM sensors WHERE temp > 20");
  await page.getByRole("group", { name: "Sink" }).getByLabel("Type").selectOption("nop");
  await page.getByRole("button", { name: "Create pipeline" }).click();
  await expect(page.getByRole("heading", { name: "Pipeline hot-sensors" })).toBeVisible();
  await expect(page.locator("#state")).toHaveText("running");
});

test("counts the messages published as they arrive", async () => {
  // The source subscribes once the pipeline runs: wait until it says it is connected.
  await expect(page.getByText("source: connected")).toBeVisible();
  for (let temp = 11; temp <= 30; temp++) broker.publish(TOPIC, { device: "probe", temp });
  const plan = page.locator('[data-stage="plan"] td');
  await expect(plan.nth(0)).toHaveText("20");
  await expect(plan.nth(1)).toHaveText("10");
  await expect(page.locator('[data-stage="source"] td').nth(2)).toHaveText("0");
  expect(await seriousViolations()).toEqual([]);
});

test("shows the rows passing a tap, with column names and Arrow types, and pauses", async () => {
  await page.getByRole("link", { name: "Inspect rows" }).click();
  await expect(page.getByRole("heading", { name: "Inspect hot-sensors" })).toBeVisible();
  startPublishing();
  const table = page.locator("#rows");
  await expect(table.locator("thead th")).toHaveText(["deviceUtf8", "tempFloat64"]);
  await expect(table.locator("tbody tr").first()).toBeVisible();
  const temps = await table.locator("tbody tr td:nth-child(2)").allTextContents();
  expect(temps.every((temp) => Number(temp) > 20)).toBe(true);
  expect(await seriousViolations()).toEqual([]);

  await page.getByRole("radio", { name: "source" }).check();
  await expect
    .poll(async () => {
      const all = await table.locator("tbody tr td:nth-child(2)").allTextContents();
      return all.some((temp) => Number(temp) <= 20);
    })
    .toBe(true);

  const pause = page.getByRole("button", { name: "Pause" });
  await pause.press("Enter");
  await expect(page.getByRole("button", { name: "Resume" })).toHaveAttribute(
    "aria-pressed",
    "true",
  );
  broker.publish(TOPIC, { device: "after-pause", temp: 99 });
  await expect
    .poll(async () => JSON.stringify((await retainedAt("hot-sensors", "source")).rows))
    .toContain("after-pause");
  await expect(table).not.toContainText("after-pause");
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(table).toContainText("after-pause");
});

test("checks an edited statement before saving it, and saves a valid one", async () => {
  await page.getByRole("link", { name: "Back to pipeline hot-sensors" }).click();
  const sql = page.getByRole("textbox", { name: "SQL", exact: true });
  const verdict = page.locator("#sql-check");
  await sql.fill("SELECT humidity FROM sensors");
  await expect(verdict).toHaveText(
    "sql: unknown column 'humidity' in stream 'sensors'; its columns are: device, temp",
  );
  await expect(sql).toHaveAttribute("aria-invalid", "true");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(verdict).toContainText("unknown column 'humidity'");
  const stored = await page.request.get("/pipelines/hot-sensors", {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  expect((await stored.json()).spec.sql).toBe("SELECT device, temp FROM sensors WHERE temp > 20");

  await sql.fill("SELECT device, temp FROM sensors WHERE temp > 18");
  await expect(verdict).toHaveText("Valid: save to apply it.");
  await expect(page.locator("#plan")).toContainText("temp > 18");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(verdict).toHaveText("Saved: the pipeline restarted with it.");
  await expect(page.getByRole("heading", { name: "Plan", exact: true })).toBeVisible();
  expect(await seriousViolations()).toEqual([]);
});

test("shows rates and charts on the overview, and its screenshot", async () => {
  await page.getByRole("link", { name: "Overview" }).click();
  const row = page.locator('[data-pipeline="hot-sensors"]');
  await expect(row.locator(".badge")).toHaveText("running");
  await expect
    .poll(async () => Number(await row.locator(".rows-in").textContent()))
    .toBeGreaterThan(0);
  await expect(row.locator("polyline.in")).toHaveAttribute("points", /\d.* \d/);
  await expect(page.locator('[data-stream="sensors"]')).toContainText("hot-sensors");
  expect(await seriousViolations()).toEqual([]);
  await page.setViewportSize(SCREENSHOT_FRAME);
  await page.screenshot({ path: SCREENSHOT });
  await page.setViewportSize(DESKTOP);
});

test("reads on a phone-sized screen without sideways scrolling", async () => {
  await page.setViewportSize(PHONE);
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  expect(await fits()).toBe(true);
  expect(await seriousViolations()).toEqual([]);
  await page.getByRole("link", { name: "hot-sensors" }).first().click();
  await expect(page.locator('[data-stage="plan"]')).toBeVisible();
  expect(await fits()).toBe(true);
  await page.setViewportSize(DESKTOP);
});

test("stops the pipeline by keyboard and shows its state change", async () => {
  stopPublishing();
  await expect(page.locator("#state")).toHaveText("running");
  await page.getByRole("heading", { name: "Pipeline hot-sensors" }).focus();
  const stop = page.getByRole("button", { name: "Stop" });
  await tabTo(stop);
  await page.keyboard.press("Enter");
  await expect(page.locator("#state")).toHaveText("stopped");
  await expect(stop).toBeDisabled();
  await expect(page.getByRole("button", { name: "Start" })).toBeFocused();
  await page.getByRole("link", { name: "Overview" }).click();
  await expect(page.locator('[data-pipeline="hot-sensors"] .badge')).toHaveText("stopped");
});

test("deletes the pipeline", async () => {
  await page.getByRole("link", { name: "hot-sensors" }).first().click();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(page.getByText("No pipeline yet.")).toBeVisible();
  await expect(page.locator('[data-stream="sensors"]')).toContainText("no pipeline");
});

test("raised no script error and broke no Content-Security-Policy rule", () => {
  expect(scriptProblems).toEqual([]);
});
