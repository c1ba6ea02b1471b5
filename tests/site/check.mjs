// The built book as a reader's browser sees it: every page opened in headless Chromium from a local server that
// stands in for the published site, with every request outside the site blocked (an offline reader).
//
//   node tests/site/check.mjs _build/html [--json report.json] [--screenshots DIR] [--pages ch06,ch10] [--file] [--jobs 2]
//
// --file opens the pages from disk (file://) instead, as a reader of a downloaded copy does.
//
// Fails (exit 1) on: an axe-core WCAG 2.1 A/AA violation in the book's own content (the article: prose, figures,
// tables, quizzes, exercise boxes, badges, widgets); a request outside the site; a formula left as raw TeX; a page
// wider than a 390 px phone; a figure shown smaller than the width it was drawn for (its text would fall under
// 8 pt), at 1280 or 390 px; an uncaught script error; an animation without a pause control; on a page with live
// models (chapters 6 and 7, glassbox.rules.widget), a widget that, driven with the keyboard only through every
// scenario, typing, dragging and reset (touch.mjs), shows logits more than 1e-8 from PyTorch's float64 pass on
// the same weights: those exported beside its weights for fixed windows, and — where the book's
// Python is found (.venv, or GLASSBOX_PYTHON) — those PyTorch computes from the page's own weights for 1,000 random
// windows, or that states its rule's answer differently from glassbox.rules on those windows. Violations in the
// theme (header, sidebars, footer) are listed, not failed. Prints each page's weight: the bytes a first visit loads.
import { createServer } from "node:http";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";

import { checkTouches, TOLERANCE, widgetIds } from "./touch.mjs";

const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
  ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".gif": "image/gif",
  ".jpg": "image/jpeg", ".webp": "image/webp", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
  ".otf": "font/otf", ".ico": "image/x-icon", ".txt": "text/plain", ".ipynb": "application/json", ".map": "application/json",
};

function parseArgs(argv) {
  const args = { site: null, json: null, screenshots: null, pages: null, file: false, jobs: 2 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--json") args.json = argv[++i];
    else if (argv[i] === "--screenshots") args.screenshots = argv[++i];
    else if (argv[i] === "--pages") args.pages = argv[++i].split(",");
    else if (argv[i] === "--file") args.file = true;
    else if (argv[i] === "--jobs") args.jobs = Math.max(1, parseInt(argv[++i], 10) || 1);
    else args.site = argv[i];
  }
  args.site = resolve(args.site || "_build/html");
  return args;
}

function findBrowser() {
  const candidates = [process.env.CHROME_PATH, "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
  for (const name of candidates.filter(Boolean)) {
    if (name.includes("/") && existsSync(name)) return name;
    try {
      return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    } catch { /* not this one */ }
  }
  throw new Error("no Chromium found: `make site-check` installs Debian's chromium, or set CHROME_PATH");
}

function pagesOf(site) {
  const pages = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(site, path).split(sep).join("/");
      if (statSync(path).isDirectory()) {
        if (!["_static", "_sources", "_images"].includes(rel.split("/")[0])) walk(path);
      } else if (name.endsWith(".html")) pages.push(rel);
    }
  };
  walk(site);
  return pages;
}

function serve(site) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    let file = join(site, path);
    if (!file.startsWith(site)) { res.writeHead(403).end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] || "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

// Runs in the page: axe, then each failing element sorted into the book's content or the theme around it.
async function axeInPage(axeSource, tags, rules) {
  if (!window.axe) window.eval(axeSource);
  const options = rules ? { runOnly: { type: "rule", values: rules } } : { runOnly: { type: "tag", values: tags } };
  options.resultTypes = ["violations"];
  const result = await window.axe.run(document, options);
  const ours = (target) => {
    let element = null;
    try { element = document.querySelector(Array.isArray(target[0]) ? target[0][0] : target[0]); } catch { return false; }
    // The article is ours, except what the theme's scripts put into it (heading anchors, copy buttons).
    return !!element && !!element.closest("article.bd-article") && !element.closest(".headerlink, .copybtn");
  };
  return result.violations.flatMap((v) => v.nodes.map((n) => ({
    rule: v.id, impact: v.impact, help: v.help, target: n.target.join(" "), html: n.html.slice(0, 200),
    summary: (n.failureSummary || "").split("\n").slice(0, 3).join(" "), ours: ours(n.target),
  })));
}

// Runs in the page: how far it scrolls sideways at this width, and the widest elements that are not inside a
// scrolling box (code blocks and wide tables may scroll; the page itself must not).
function overflowInPage() {
  const width = document.documentElement.clientWidth;
  const over = document.documentElement.scrollWidth - width;
  const culprits = [];
  if (over > 0) {
    for (const el of document.querySelectorAll("body *")) {
      const box = el.getBoundingClientRect();
      if (box.right <= width + 1 || box.width === 0 || !el.checkVisibility({ visibilityProperty: true })) continue;
      let scrolls = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === "auto" || o === "scroll" || o === "hidden") { scrolls = true; break; }
      }
      if (!scrolls && ![...el.children].some((c) => c.getBoundingClientRect().right > width + 1)) culprits.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} (${Math.round(box.right)} px): ${(el.textContent || "").trim().slice(0, 60)}`);
    }
  }
  if (over > 0 && !culprits.length) {  // something placed out of its scrolling box (position: absolute) sticks out
    for (const el of document.querySelectorAll("article *")) {
      const box = el.getBoundingClientRect();
      if (box.right > width + 0.5 && getComputedStyle(el).position === "absolute")
        culprits.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} (absolute, ${Math.round(box.right)} px) in ${el.closest("figure, section")?.id || "?"}`);
    }
  }
  return { over, culprits: culprits.slice(0, 3) };
}

// Runs in the page: formulas still written as TeX (the maths renderer did not run), and animations without a
// pause control or that keep moving when the reader asked for reduced motion.
function contentInPage() {
  const rawMath = [...document.querySelectorAll("article .math, .bd-toc .math")]
    .filter((m) => !m.querySelector("mjx-container") && /\\\(|\\\[|\$\$/.test(m.textContent)).length;
  const animations = [...document.querySelectorAll("article img")].filter((img) => /\.gif(\?|$)/i.test(img.src) || img.src.startsWith("data:image/gif"));
  const uncontrolled = animations.filter((img) => {
    const box = img.closest(".glassbox-animation");
    return !box || !box.querySelector("button.glassbox-animation-toggle");
  }).map((img) => img.src.slice(0, 80));
  const moving = animations.filter((img) => img.checkVisibility() && img.closest(".glassbox-animation")?.dataset.state !== "paused")
    .map((img) => img.src.slice(0, 80));
  return { rawMath, animations: animations.length, uncontrolled, moving };
}

// Runs in the page: the book's figures (PNG outputs with the width they were drawn for) that the page shows smaller
// than that width. Their text is ≥ 8 pt at the drawn width (glassbox.plots.core, tested in Python); shown smaller,
// it is smaller than that. Each as "file: shown/drawn px".
async function shrunkFiguresInPage() {
  const lazy = [...document.querySelectorAll("article .glassbox-animation img")];  // loading="lazy": load them to measure
  await Promise.all(lazy.map((img) => { img.loading = "eager"; return img.decode().catch(() => {}); }));
  // MyST-NB writes a PNG's display width as an inline style; an animation (GIF) is drawn at its own pixel size
  const drawn = (img) => parseFloat(img.style.width) || Number(img.getAttribute("width"))
    || (img.closest(".glassbox-animation") ? img.naturalWidth : 0);
  return [...document.querySelectorAll("article .cell_output img, article .glassbox-animation img")]
    .filter((img) => drawn(img) > 0 && img.checkVisibility() && img.getBoundingClientRect().width < 0.98 * drawn(img))
    .map((img) => `${img.src.split("/").pop().slice(0, 16)}…: ${Math.round(img.getBoundingClientRect().width)}/${drawn(img)} px`);
}

// Screenshots of each figure of the article as the page shows it, for looking at (`--screenshots DIR`).
async function figureShots(page, dir, name, width) {
  // the sticky header and the skip link would cover the top of a figure scrolled into view
  await page.addStyleTag({ content: ".bd-header, .skip-link, .bd-header-article { visibility: hidden !important; }" });
  const images = await page.$$("article .cell_output img, article .glassbox-animation img");
  let n = 0;
  for (const image of images) {
    const visible = await image.evaluate((img) => img.checkVisibility() && img.getBoundingClientRect().width > 0);
    if (!visible) continue;
    // puppeteer scrolls the element into view itself; beyond the viewport (a tall figure) it captures the rest
    await image.screenshot({ path: join(dir, `${name}-fig${String(++n).padStart(2, "0")}-${width}.png`), captureBeyondViewport: true }).catch(() => {});
  }
}

// Light and dark pages live in separate browser contexts: the theme keeps the reader's choice in localStorage,
// which would otherwise carry dark mode over to every page opened after the first dark one.
async function openPage(contexts, url, origin, { viewport, reducedMotion = false, dark = false }) {
  const page = await (dark ? contexts.dark : contexts.light).newPage();
  await page.setViewport(viewport);
  if (reducedMotion) await page.emulateMediaFeatures([{ name: "prefers-reduced-motion", value: "reduce" }]);
  await page.evaluateOnNewDocument((mode) => { localStorage.setItem("theme", mode); localStorage.setItem("mode", mode); },
    dark ? "dark" : "light");
  const outside = [], errors = [], responses = [];
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    const u = request.url();
    if (u.startsWith(origin) || u.startsWith("data:") || u.startsWith("blob:") || u.startsWith("about:")) request.continue();
    else { outside.push(`${request.resourceType()} ${u}`); request.abort("blockedbyclient"); }
  });
  page.on("response", (response) => { if (response.url().startsWith(origin)) responses.push(response); });
  page.on("pageerror", (error) => errors.push(String(error.message || error).split("\n")[0]));
  await page.goto(url, { waitUntil: "load", timeout: 60000 });
  await page.waitForNetworkIdle({ idleTime: 300, timeout: 20000 }).catch(() => {});
  await page.evaluate(() => (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) || null).catch(() => {});
  return { page, outside, errors, responses };
}

const gzipCache = new Map();
async function weigh(responses) {
  let bytes = 0, gzip = 0;
  const seen = new Set();
  for (const response of responses) {
    const url = response.url().split("?")[0].split("#")[0];
    if (seen.has(url) || response.status() >= 300) continue;
    seen.add(url);
    let body;
    try { body = await response.buffer(); } catch { continue; }
    bytes += body.length;
    if (!gzipCache.has(url)) gzipCache.set(url, /\.(png|gif|jpg|webp|woff2?)$/.test(url) ? body.length : gzipSync(body).length);
    gzip += gzipCache.get(url);
  }
  return { bytes, gzip, requests: seen.size };
}

// The live models (glassbox.rules.widget), driven with the keyboard and compared with PyTorch (touch.mjs): PyTorch's
// logits for 1,000 random windows computed from the page's own weights, where the book's Python is found.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
function pytorchReference(model, n) {
  const python = process.env.GLASSBOX_PYTHON || join(ROOT, ".venv", "bin", "python");
  if (!existsSync(python)) return null;
  const out = execFileSync(python, ["-m", "glassbox.rules.widget", "reference", String(n), "0"],
    { input: JSON.stringify(model), encoding: "utf8", maxBuffer: 64 << 20, cwd: ROOT });
  return JSON.parse(out);
}
const checkTouch = (page) => checkTouches(page, pytorchReference);
async function widgetShots(page, screenshots, name, suffix) {
  const ids = await widgetIds(page);
  for (const id of ids) {
    const tag = ids.length > 1 ? `-${id.replace(/^glassbox-touch-?/, "") || "1"}` : "";
    const element = await page.$(`#${id}`);
    // a widget that fits the window is shot within it: far down a long page, a capture beyond the window came back blank
    const fits = await element.evaluate((e) => e.getBoundingClientRect().height <= window.innerHeight);
    await element.screenshot({ path: join(screenshots, `${name}-touch${tag}-${suffix}.png`), captureBeyondViewport: !fits });
  }
}

async function checkPage(contexts, origin, site, rel, screenshots) {
  const url = `${origin}/${rel}`;
  const report = { page: rel, html: statSync(join(site, rel)).size };
  const desk = await openPage(contexts, url, origin, { viewport: DESKTOP });
  Object.assign(report, await weigh(desk.responses));
  report.outside = [...new Set(desk.outside)];
  report.errors = [...new Set(desk.errors)];
  report.violations = await desk.page.evaluate(axeInPage, AXE_SOURCE, AXE_TAGS, null);
  report.content = await desk.page.evaluate(contentInPage);
  // The page as a reader leaves it: every dropdown (hints, solutions, folded code) open, every quiz answered
  // (its first choices ticked and its button pressed), every animation paused. axe again, new findings added.
  const acted = await desk.page.evaluate(() => {
    let n = 0;
    document.querySelectorAll("article details:not([open])").forEach((d) => { d.open = true; n++; });
    document.querySelectorAll("article form.glassbox-quiz").forEach((form) => {
      form.querySelectorAll("fieldset").forEach((set) => { const i = set.querySelector("input"); if (i) i.checked = true; });
      const button = form.querySelector("button"); if (button) { button.click(); n++; }
    });
    document.querySelectorAll(".glassbox-animation-toggle").forEach((b) => { b.click(); n++; });
    return n;
  });
  if (acted) {
    await new Promise((ok) => setTimeout(ok, 300));
    const seen = new Set(report.violations.map((v) => `${v.rule} ${v.target}`));
    for (const v of await desk.page.evaluate(axeInPage, AXE_SOURCE, AXE_TAGS, null)) {
      if (!seen.has(`${v.rule} ${v.target}`)) report.violations.push({ ...v, rule: `${v.rule} (after use)` });
    }
  }
  const name = rel.replace(/\//g, "_").replace(/\.html$/, "");
  report.shrunk = { [DESKTOP.width]: await desk.page.evaluate(shrunkFiguresInPage) };
  if (screenshots) await desk.page.bringToFront().then(() => desk.page.screenshot({ path: join(screenshots, `${name}-1280.png`) }));
  if (screenshots) await figureShots(desk.page, screenshots, name, DESKTOP.width);
  if (screenshots) await widgetShots(desk.page, screenshots, name, "1280");
  report.touch = await checkTouch(desk.page);
  if (report.touch) {  // axe again on the widget as the reader left it (values mode, edited, reset)
    const seen = new Set(report.violations.map((v) => `${v.rule} ${v.target}`));
    for (const v of await desk.page.evaluate(axeInPage, AXE_SOURCE, AXE_TAGS, null))
      if (!seen.has(`${v.rule} ${v.target}`)) report.violations.push({ ...v, rule: `${v.rule} (after the live model was used)` });
    report.errors = [...new Set([...report.errors, ...desk.errors])];
  }
  await desk.page.close();

  // A phone, with reduced motion asked for: nothing may scroll sideways, and no animation may move.
  const phone = await openPage(contexts, url, origin, { viewport: PHONE, reducedMotion: true });
  report.overflow = await phone.page.evaluate(overflowInPage);
  const still = await phone.page.evaluate(contentInPage);
  report.content.movingWithReducedMotion = still.moving;
  report.shrunk[PHONE.width] = await phone.page.evaluate(shrunkFiguresInPage);
  if (screenshots) await phone.page.bringToFront().then(() => phone.page.screenshot({ path: join(screenshots, `${name}-390.png`) }));
  if (screenshots) await figureShots(phone.page, screenshots, name, PHONE.width);
  if (screenshots) await widgetShots(phone.page, screenshots, name, "390");
  await phone.page.close();

  // Dark mode: colour contrast only (the rest does not change with the colour scheme).
  const dark = await openPage(contexts, url, origin, { viewport: DESKTOP, dark: true });
  report.darkContrast = (await dark.page.evaluate(axeInPage, AXE_SOURCE, AXE_TAGS, ["color-contrast"]))
    .map((v) => ({ ...v, rule: "color-contrast (dark)" }));
  if (screenshots) await widgetShots(dark.page, screenshots, name, "dark-1280");
  await dark.page.close();
  if (screenshots && report.touch) {
    const darkPhone = await openPage(contexts, url, origin, { viewport: PHONE, dark: true });
    await widgetShots(darkPhone.page, screenshots, name, "dark-390");
    await darkPhone.page.close();
  }
  return report;
}

function failures(r) {
  const out = [];
  for (const v of [...r.violations, ...r.darkContrast].filter((v) => v.ours))
    out.push(`axe ${v.rule} (${v.impact}): ${v.help} — ${v.target} — ${v.summary}`);
  for (const u of r.outside) out.push(`request outside the site: ${u}`);
  for (const e of r.errors) out.push(`script error: ${e}`);
  if (r.content.rawMath) out.push(`${r.content.rawMath} formula(s) shown as raw TeX`);
  for (const a of r.content.uncontrolled) out.push(`animation without a pause control: ${a}`);
  for (const a of r.content.movingWithReducedMotion) out.push(`animation moves although the reader asked for reduced motion: ${a}`);
  for (const [width, figures] of Object.entries(r.shrunk || {}))
    if (figures.length) out.push(`${figures.length} figure(s) shown smaller than drawn at ${width} px (text under 8 pt): ${figures.slice(0, 3).join("; ")}`);
  for (const t of r.touch || []) for (const p of t.problems) out.push(p);
  if (r.overflow.over > 0) out.push(`scrolls ${r.overflow.over} px sideways at ${PHONE.width} px: ${r.overflow.culprits.join("; ")}`);
  return out;
}

const kb = (n) => `${(n / 1024).toFixed(0)}`.padStart(6);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(join(args.site, "index.html"))) {
    console.error(`${args.site}: no index.html — build the book first (make book)`);
    return 2;
  }
  if (args.screenshots) mkdirSync(args.screenshots, { recursive: true });
  const started = Date.now();
  const server = args.file ? null : await serve(args.site);
  const origin = args.file ? `file://${args.site}` : `http://127.0.0.1:${server.address().port}`;
  const browser = await puppeteer.launch({
    executablePath: findBrowser(), headless: true,
    // Pages are checked two at a time: the one in the background must render, run timers and take screenshots
    // as the one in front does.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
      "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"],
  });
  let pages = pagesOf(args.site);
  if (args.pages) pages = pages.filter((p) => args.pages.some((s) => p.includes(s)));
  const contexts = { light: await browser.createBrowserContext(), dark: await browser.createBrowserContext() };
  const reports = new Array(pages.length);
  let next = 0;
  const worker = async () => {
    while (next < pages.length) {
      const i = next++;
      reports[i] = await checkPage(contexts, origin, args.site, pages[i], args.screenshots);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(args.jobs, pages.length) }, worker));
  } finally {
    await browser.close();
    if (server) server.close();
  }

  let failed = 0;
  const themeRules = new Map();
  console.log(`${"page".padEnd(36)}  html KB  load KB  gzip KB  requests  ours  theme  outside  sideways px`);
  for (const r of reports) {
    const all = [...r.violations, ...r.darkContrast];
    const ours = all.filter((v) => v.ours).length, theme = all.length - ours;
    for (const v of all.filter((v) => !v.ours)) {
      const key = `${v.rule}: ${v.help} — ${v.target}`;
      themeRules.set(key, (themeRules.get(key) || 0) + 1);
    }
    r.failures = failures(r);
    failed += r.failures.length ? 1 : 0;
    console.log(`${r.page.padEnd(36)} ${kb(r.html)}   ${kb(r.bytes)}   ${kb(r.gzip)}   ${String(r.requests).padStart(6)}  ${String(ours).padStart(4)}  ${String(theme).padStart(5)}  ${String(r.outside.length).padStart(7)}  ${String(Math.max(0, r.overflow.over)).padStart(11)}`);
  }
  for (const r of reports.filter((r) => r.touch)) {
    for (const t of r.touch.filter((t) => t.exported !== undefined)) {
      const random = t.windows ? `${t.windows} random windows: ${t.random.toExponential(2)} (from PyTorch's float32 pass: ${t.float32.toExponential(2)})` : "1,000 random windows: skipped (no .venv/bin/python; set GLASSBOX_PYTHON)";
      console.log(`\n${r.page}: live model ${t.id} (${t.rule}), largest logit difference from PyTorch's float64 pass (bound ${TOLERANCE}) — exported windows: ${t.exported.toExponential(2)}; ${random}`);
      console.log(`  scenarios (keyboard): ${t.scenarios.join("; ")}`);
    }
  }
  if (themeRules.size) {
    console.log("\nTheme violations (listed, not failed; pages affected):");
    for (const [key, n] of themeRules) console.log(`  ${n} × ${key}`);
  }
  for (const r of reports.filter((r) => r.failures.length)) {
    console.log(`\n${r.page}:`);
    for (const f of r.failures) console.log(`  ${f}`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`\nsite-check: ${reports.length} pages in ${seconds} s, ${failed} failing`);
  if (args.json) writeFileSync(args.json, JSON.stringify(reports, null, 1));
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => { console.error(error); process.exit(2); });
