// Chapter 6's widget (glassbox.rules.widget), driven as a reader drives it: with the keyboard only. Shared by the
// site check (check.mjs) and tests/test_widget.py (touch_probe.mjs).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export function findBrowser() {
  const candidates = [process.env.CHROME_PATH, "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
  for (const name of candidates.filter(Boolean)) {
    if (name.includes("/") && existsSync(name)) return name;
    try {
      return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    } catch { /* not this one */ }
  }
  throw new Error("no Chromium found: `make site-check` installs Debian's chromium, or set CHROME_PATH");
}

export function launchBrowser(puppeteer) {
  return puppeteer.launch({ executablePath: findBrowser(), headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

const state = (page) => page.$eval(".glassbox-touch", (root) => root.glassboxTouch.state());
const focus = (page, selector) => page.$eval(selector, (e) => e.focus());  // SVG points too (page.focus refuses them)
const press = async (page, key, times = 1, shift = false) => {
  if (shift) await page.keyboard.down("Shift");
  for (let i = 0; i < times; i++) await page.keyboard.press(key);
  if (shift) await page.keyboard.up("Shift");
};

// Every scenario by its button (focus, Enter), a window typed into the slots, a token's embedding and a value
// moved with the arrow keys, then Reset: each step's state (tokens, logits, probabilities, the live region's words).
export async function driveTouch(page, windows = []) {
  await page.waitForSelector(".glassbox-touch[data-ready]", { timeout: 20000 });
  const out = { model: await page.$eval("script.glassbox-touch-model", (s) => JSON.parse(s.textContent)) };
  out.logits = await page.$eval(".glassbox-touch", (root, ws) => ws.map((w) => root.glassboxTouch.forward(w)), windows);
  out.scenarios = [];
  const n = await page.$$eval(".gbt-scenario", (b) => b.length);
  for (let i = 0; i < n; i++) {
    await focus(page, `.gbt-scenario[data-scenario="${i}"]`);
    await press(page, "Enter");
    out.scenarios.push(await state(page));
  }
  // type "2 + 10 +" from the first slot: digits, "+", and 10 as "1" then "0"
  await focus(page, '.gbt-slot[data-pos="0"]');
  await press(page, "Home");
  for (const key of ["2", "+", "1", "0", "+"]) await press(page, key);
  for (let i = 0; i < 8; i++) await press(page, "Delete");
  out.typed = await state(page);
  // drag token 2's embedding: focus its point, arrows (Shift: larger steps)
  await focus(page, '.gbt-handle[data-key="E2"]');
  await press(page, "ArrowUp", 4, true);
  await press(page, "ArrowRight", 3, true);
  out.draggedToken = await state(page);
  // switch to values (arrow keys in the radio group), then move the value of position 0
  await focus(page, '.gbt-modes input[value="token"]');
  await press(page, "ArrowRight", 2);
  await focus(page, '.gbt-handle[data-key="V0"]');
  await press(page, "ArrowLeft", 5, true);
  out.draggedValue = await state(page);
  await focus(page, ".gbt-reset");
  await press(page, "Enter");
  out.reset = await state(page);
  await new Promise((ok) => setTimeout(ok, 500));  // the live region speaks after a pause in typing
  out.live = await page.$eval(".gbt-live", (p) => p.textContent);
  return out;
}
