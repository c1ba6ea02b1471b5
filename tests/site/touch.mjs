// The live models of chapters 6 and 7 (glassbox.rules.widget), driven as a reader drives them: with the keyboard
// only. Shared by the site check (check.mjs) and tests/test_widget.py (touch_probe.mjs). A page may show several
// widgets (chapter 7 shows one per rule): each is driven and checked on its own, by its id.
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

// The ids of the page's widgets, in page order.
export const widgetIds = (page) => page.$$eval(".glassbox-touch", (roots) => roots.map((r) => r.id));

const state = (page, root) => page.$eval(root, (r) => r.glassboxTouch.state());
const focus = (page, selector) => page.$eval(selector, (e) => e.focus());  // SVG points too (page.focus refuses them)
const press = async (page, key, times = 1, shift = false) => {
  if (shift) await page.keyboard.down("Shift");
  for (let i = 0; i < times; i++) await page.keyboard.press(key);
  if (shift) await page.keyboard.up("Shift");
};

// What typing `keys` into the slots from the first one must give: digits, "+", and "1" then "0" as 10 where the
// vocabulary has a 10 (else the two tokens 1 and 0).
function typedTokens(vocab, keys) {
  const out = [], ten = vocab.indexOf("10");
  for (const key of keys) {
    if (key === "+") { if (vocab.includes("+")) out.push(vocab.indexOf("+")); continue; }
    if (key === "0" && ten >= 0 && out.length && out[out.length - 1] === vocab.indexOf("1")) out[out.length - 1] = ten;
    else out.push(vocab.indexOf(key));
  }
  return out;
}

// One widget (its id, default the page's first): every scenario by its button (focus, Enter), a window typed into
// the slots, a token's embedding, a position's embedding and a value moved with the arrow keys, then Reset: each step's state (tokens,
// logits, probabilities, the live region's words); the forward pass and the rule's answer on `windows`.
export async function driveTouch(page, windows = [], id = null) {
  await page.waitForSelector(".glassbox-touch[data-ready]", { timeout: 20000 });
  id = id || (await widgetIds(page))[0];
  const root = `#${id}`;
  await page.waitForSelector(`${root}[data-ready]`, { timeout: 20000 });
  const out = { id, model: await page.$eval(`script.glassbox-touch-model[data-for="${id}"]`, (s) => JSON.parse(s.textContent)) };
  out.logits = await page.$eval(root, (r, ws) => ws.map((w) => r.glassboxTouch.forward(w)), windows);
  out.allowed = await page.$eval(root, (r, ws) => ws.map((w) => r.glassboxTouch.allowedNext(w)), windows);
  out.scenarios = [];
  const n = await page.$$eval(`${root} .gbt-scenario`, (b) => b.length);
  for (let i = 0; i < n; i++) {
    await focus(page, `${root} .gbt-scenario[data-scenario="${i}"]`);
    await press(page, "Enter");
    out.scenarios.push(await state(page, root));
  }
  // type "2 + 1 0 +" (or "2 1 0 3" for a rule without +) from the first slot, then clear the rest of the window
  const keys = out.model.plus === null ? ["2", "1", "0", "3"] : ["2", "+", "1", "0", "+"];
  await focus(page, `${root} .gbt-slot[data-pos="0"]`);
  await press(page, "Home");
  for (const key of keys) await press(page, key);
  for (let i = 0; i < 8; i++) await press(page, "Delete");
  out.typed = await state(page, root);
  out.typedExpected = typedTokens(out.model.vocab, keys);
  // drag token 2's embedding: focus its point, arrows (Shift: larger steps)
  await focus(page, `${root} .gbt-handle[data-key="E2"]`);
  await press(page, "ArrowUp", 4, true);
  await press(page, "ArrowRight", 3, true);
  out.draggedToken = await state(page, root);
  // switch to positions (arrow keys in the radio group), move position 1's embedding; then to values, and move the
  // value of position 0
  await focus(page, `${root} .gbt-modes input[value="token"]`);
  await press(page, "ArrowRight");
  await focus(page, `${root} .gbt-handle[data-key="P1"]`);
  await press(page, "ArrowDown", 3, true);
  out.draggedPosition = await state(page, root);
  await focus(page, `${root} .gbt-modes input[value="position"]`);
  await press(page, "ArrowRight");
  await focus(page, `${root} .gbt-handle[data-key="V0"]`);
  await press(page, "ArrowLeft", 5, true);
  out.draggedValue = await state(page, root);
  await focus(page, `${root} .gbt-reset`);
  await press(page, "Enter");
  out.reset = await state(page, root);
  await new Promise((ok) => setTimeout(ok, 500));  // the live region speaks after a pause in typing
  out.live = await page.$eval(`${root} .gbt-live`, (p) => p.textContent);
  return out;
}

// The page computes in float64 (JavaScript numbers) on the exported float32 weights, and the references are
// PyTorch's forward pass in float64 on the same weights (glassbox.rules.widget.exact): the two agree to ~1e-13, so
// the bound, 1e-8 on any logit, leaves room only for the order of sums and the 12 digits the export writes.
// PyTorch's usual float32 pass is further from both (its rounding grows with the logits: ~1e-4 at the few hundred
// chapter 6's model reaches on random windows); the site check reports its distance from the page as information.
export const TOLERANCE = 1e-8;
const scaledRow = (row, ref) => Math.max(...row.map((v, j) => Math.abs(v - ref[j])));
const largest = (a, b) => Math.max(...a.map((row, i) => scaledRow(row, b[i])));

// Every widget of the page driven (driveTouch) and compared with PyTorch: the logits exported beside the weights
// for the scenarios and a few fixed windows, every scenario's state and words, and — where `reference(model, n)`
// gives PyTorch's logits for n seeded random windows from the page's own weights — 1,000 of those. Returns one
// report per widget ({id, rule, exported, random, windows, scenarios, problems}), or null without a widget.
export async function checkTouches(page, reference) {
  const ids = await widgetIds(page);
  if (!ids.length) return null;
  const reports = [];
  for (const id of ids) reports.push(await checkOne(page, id, reference));
  return reports;
}

async function checkOne(page, id, reference) {
  const report = { id, problems: [] };
  const model = await page.$eval(`script.glassbox-touch-model[data-for="${id}"]`, (s) => JSON.parse(s.textContent)).catch(() => null);
  if (!model) return { id, problems: [`live model ${id}: no weights beside the widget`] };
  report.rule = model.rule;
  let ref = null;
  try { ref = reference ? reference(model, 1000) : null; } catch (error) { report.problems.push(`live model ${id}: PyTorch's reference failed: ${String(error.message).split("\n")[0]}`); }
  const windows = ref ? ref.windows : [];
  let out;
  try {
    out = await driveTouch(page, [...model.reference.map((r) => r.window), ...windows], id);
  } catch (error) {
    return { id, rule: model.rule, problems: [`live model ${id}: could not be driven with the keyboard: ${String(error.message).split("\n")[0]}`] };
  }
  const fixed = out.logits.slice(0, model.reference.length);
  report.exported = Math.max(...fixed.map((l, i) => largest(l, model.reference[i].logits)));
  if (ref) {
    report.windows = windows.length;
    const browser = out.logits.slice(model.reference.length);
    report.random = Math.max(...browser.map((l, i) => largest(l, ref.logits[i])));
    if (ref.logits_float32) report.float32 = Math.max(...browser.map((l, i) => largest(l, ref.logits_float32[i])));
    if (ref.allowed) {  // the rule's answers, as glassbox.rules.definitions gives them
      const wrong = ref.allowed.filter((a, i) => JSON.stringify(a) !== JSON.stringify(normalise(out.allowed[model.reference.length + i])));
      if (wrong.length) report.problems.push(`live model ${id}: the page's ${model.rule} differs from the library's on ${wrong.length} windows`);
    }
  }
  report.scenarios = out.scenarios.map((state, i) => {
    const expected = model.reference.find((r) => JSON.stringify(r.window) === JSON.stringify(state.tokens));
    const shown = expected ? largest(state.logits, expected.logits) : Infinity;
    if (JSON.stringify(state.tokens) !== JSON.stringify(model.scenarios[i].window) || !(shown <= TOLERANCE))
      report.problems.push(`live model ${id}: scenario "${model.scenarios[i].name}" shows ${state.tokens.join(" ")} with logits ${shown.toExponential(1)} from PyTorch's`);
    const last = state.probs[state.probs.length - 1], best = last.indexOf(Math.max(...last));
    if (!state.live.includes(`predicts ${model.vocab[best]} with ${last[best].toFixed(2)}`))
      report.problems.push(`live model ${id}: scenario "${model.scenarios[i].name}": the live region says "${state.live}", not its prediction`);
    return `${model.scenarios[i].name}: ${model.vocab[best]} (${last[best].toFixed(2)})`;
  });
  if (!(report.exported <= TOLERANCE)) report.problems.push(`live model ${id}: logits ${report.exported.toExponential(1)} from PyTorch's exported ones`);
  if (ref && !(report.random <= TOLERANCE)) report.problems.push(`live model ${id}: logits ${report.random.toExponential(1)} from PyTorch's on ${windows.length} random windows`);
  if (JSON.stringify(out.typed.tokens) !== JSON.stringify(out.typedExpected)) report.problems.push(`live model ${id}: typing gave ${out.typed.tokens.join(" ")}, not ${out.typedExpected.join(" ")}`);
  if (JSON.stringify(out.draggedToken.W_E) === JSON.stringify(out.scenarios[0] ? out.scenarios[0].W_E : model.weights.W_E)) report.problems.push(`live model ${id}: the arrow keys did not move a token's embedding`);
  if (JSON.stringify(out.draggedPosition.W_pos) === JSON.stringify(out.draggedToken.W_pos)) report.problems.push(`live model ${id}: the arrow keys did not move a position's embedding`);
  if (!Object.keys(out.draggedValue.pins).length) report.problems.push(`live model ${id}: the arrow keys did not move a value`);
  if (JSON.stringify(out.reset.W_E) !== JSON.stringify(out.typed.W_E)) report.problems.push(`live model ${id}: Reset did not restore the trained weights`);
  return report;
}

// A rule's answer as a sorted list, or null (free), or "unknown" (a rule the page's script does not know).
export const normalise = (a) => (Array.isArray(a) ? [...a].sort((x, y) => x - y) : a);
