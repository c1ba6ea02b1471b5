// Drives the widgets of a page (glassbox.rules.widget) in headless Chromium for tests/test_widget.py:
//   node tests/site/touch_probe.mjs PAGE.html WINDOWS.json OUT.json
// WINDOWS.json maps each widget's id to its windows; for each widget, runs the browser's forward pass and the rule's
// answer on its windows, then edits the model with the keyboard only (touch.mjs: scenarios, typing, a token's
// embedding and a value moved with the arrow keys, reset), and writes each widget's logits and states to OUT.json.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createRequire } from "node:module";
import { launchBrowser, driveTouch, widgetIds } from "./touch.mjs";

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
  await page.waitForSelector(".glassbox-touch[data-ready]", { timeout: 20000 });
  const widgets = {};
  for (const id of await widgetIds(page)) widgets[id] = await driveTouch(page, windows[id] || [], id);
  writeFileSync(outPath, JSON.stringify({ widgets, errors }));
} finally {
  await browser.close();
}
