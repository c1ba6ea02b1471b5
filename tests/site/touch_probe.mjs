// Drives chapter 6's widget (glassbox.rules.widget) in headless Chromium for tests/test_widget.py:
//   node tests/site/touch_probe.mjs PAGE.html WINDOWS.json OUT.json
// runs the browser's forward pass on every window of WINDOWS.json, then edits the model with the keyboard only
// (a token's embedding moved with the arrow keys, then a value), and writes the logits and the edited state to OUT.json.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createRequire } from "node:module";
import { launchBrowser, driveTouch } from "./touch.mjs";

const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");
const [pagePath, windowsPath, outPath] = process.argv.slice(2);
const windows = JSON.parse(readFileSync(windowsPath, "utf8"));
const browser = await launchBrowser(puppeteer);
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e.message || e)));
  await page.goto(`file://${resolve(pagePath)}`, { waitUntil: "load" });
  const result = await driveTouch(page, windows);
  writeFileSync(outPath, JSON.stringify({ ...result, errors }));
} finally {
  await browser.close();
}
