// The console's browser tests, in Debian's Chromium (Playwright never downloads a browser
// here), against the server and broker run.sh started: VELOFLUX_URL, VELOFLUX_TOKEN and
// VELOFLUX_BROKER say where they are.

const { defineConfig } = require("@playwright/test");

for (const name of ["VELOFLUX_URL", "VELOFLUX_TOKEN", "VELOFLUX_BROKER"]) {
  if (!process.env[name]) throw new Error(`${name} is not set: run the tests with run.sh`);
}

module.exports = defineConfig({
  testDir: ".",
  testMatch: "*.spec.js",
  // One server for every test, and the tests of a file build on each other.
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    baseURL: process.env.VELOFLUX_URL,
    browserName: "chromium",
    viewport: { width: 1280, height: 800 },
    launchOptions: { executablePath: process.env.CHROMIUM || "/usr/bin/chromium" },
    trace: "retain-on-failure",
  },
});
