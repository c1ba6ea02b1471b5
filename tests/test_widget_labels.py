"""The labels on the live model's plane (`glassbox.rules.widget`, widget.js): in every scenario and drag mode of
chapter 6's widget and chapter 7's lucky7, no label overprints another, no point's label overprints a marker, and
every position's point keeps its name for screen readers (an aria-label) whether or not its label found room.

Needs Chromium and tests/site's node packages, as tests/test_widget.py; skipped without them."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from glassbox.model import Transformer
from glassbox.rules import get_rule, get_setup, widget

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "tests" / "site"

PROBE = """
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { launchBrowser } from "%(touch)s";
const require = createRequire("%(package)s");
const puppeteer = require("puppeteer-core");
const [pagePath, outPath] = process.argv.slice(2);
const browser = await launchBrowser(puppeteer);
const found = [], errors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => errors.push(String(e.message || e)));
  await page.setViewport({ width: 390, height: 900 });
  await page.goto("file://" + pagePath, { waitUntil: "load" });
  await page.waitForSelector(".glassbox-touch[data-ready]", { timeout: 20000 });
  const ids = await page.$$eval(".glassbox-touch", (r) => r.map((e) => e.id));
  for (const id of ids) {
    const n = await page.$$eval("#" + id + " .gbt-scenario", (b) => b.length);
    for (const mode of ["token", "position", "value"]) {
      for (let i = 0; i < n; i++) {
        found.push(await page.evaluate((id, mode, i) => {
          const root = document.getElementById(id);
          root.querySelector("input[value=" + mode + "]").click();
          root.querySelector('.gbt-scenario[data-scenario="' + i + '"]').click();
          const svg = root.querySelector(".gbt-plane svg");
          const box = (b, pad) => [b.x + pad, b.y + pad, b.x + b.width - pad, b.y + b.height - pad];
          // a text's box: its width as drawn, its height the digits' (getBBox's is the font's whole line)
          const texts = [...svg.querySelectorAll("text")].map((t) => {
            const b = t.getBBox(), size = +t.getAttribute("font-size"), y = +t.getAttribute("y");
            return { text: t.textContent, region: t.textContent.startsWith("→"), mine: t.parentNode,
              box: [b.x, y - 0.72 * size, b.x + b.width, y] };
          });
          const marks = [...svg.querySelectorAll("circle, rect")]
            .filter((c) => c.getAttribute("fill") !== "transparent" && c.getAttribute("r") !== "2")
            .map((c) => ({ mine: c.parentNode, box: box(c.getBBox(), 0) }));
          const hit = (a, b) =>
            Math.min(a[2], b[2]) - Math.max(a[0], b[0]) > 1 && Math.min(a[3], b[3]) - Math.max(a[1], b[1]) > 1;
          const clashes = [];
          texts.forEach((a, j) => texts.slice(j + 1).forEach((b) => {
            if (hit(a.box, b.box)) clashes.push(a.text + " on " + b.text);
          }));
          const bold = (t) => t.mine.querySelector("text[font-weight]") !== null;  // the last position's, always shown
          texts.filter((t) => !t.region && !bold(t)).forEach((t) => marks.forEach((m) => {
            if (m.mine !== t.mine && hit(t.box, m.box)) clashes.push(t.text + " on a marker");
          }));
          const points = [...svg.querySelectorAll("g[role=img]")].map((g) => g.getAttribute("aria-label") || "");
          return { id, mode, scenario: i, clashes, points, n: root.glassboxTouch.state().tokens.length };
        }, id, mode, i));
      }
    }
  }
} finally {
  await browser.close();
}
writeFileSync(outPath, JSON.stringify({ found, errors }));
"""


def widened(name: str) -> Transformer:
    """An untrained model of the gallery entry `name`, weights 4 times wider than at initialisation (as in
    tests/test_widget.py): its regions and points fall anywhere, a harder case for the labels than a trained one."""
    setup = get_setup(name)
    model = Transformer(setup.model_config(get_rule(setup.rule).d_vocab, seed=3)).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(4.0).add_(0.1 * torch.randn(parameter.shape, generator=torch.Generator().manual_seed(1)))
    return model


def test_labels_overprint_nothing_and_every_point_keeps_its_name(tmp_path):
    if shutil.which("node") is None or not (SITE / "node_modules" / "puppeteer-core").exists():
        pytest.skip("needs node and tests/site's packages (cd tests/site && npm ci)")
    if not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")):
        pytest.skip("needs Chromium (apt-get install chromium)")
    pages = {
        "ch06": widget.touch(widened("plus_last_even"), get_rule("plus_last_even"), "ch06"),
        "lucky7": widget.touch(widened("lucky7"), get_rule("lucky7"), "lucky7", setup="lucky7"),
    }
    page = tmp_path / "labels.html"
    page.write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>t</title></head><body><main>"
        + "".join(touch._repr_html_() for touch in pages.values())
        + "</main></body></html>"
    )
    probe = tmp_path / "probe.mjs"
    probe.write_text(PROBE % {"touch": SITE / "touch.mjs", "package": SITE / "package.json"})
    subprocess.run(["node", str(probe), str(page), str(tmp_path / "out.json")], check=True, timeout=300)
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["errors"] == [], "the page threw"
    assert {f["id"] for f in out["found"]} == set(pages)
    for f in out["found"]:
        where = f"{f['id']}, {f['mode']} mode, scenario {f['scenario']}"
        assert f["clashes"] == [], f"{where}: {f['clashes']}"
        assert len(f["points"]) == f["n"], f"{where}: a group a position"
        for p, words in enumerate(f["points"]):
            assert f"_{p}: token " in words and f"at position {p}," in words, f"{where}: position {p} named: {words!r}"
