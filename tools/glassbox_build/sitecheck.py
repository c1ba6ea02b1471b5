"""Checks on the built site that a reader would notice: page weight, alt text, the Colab badges, and that a page
loads nothing from outside the site (an offline reader sees what a reader online sees).

    python -m glassbox_build.sitecheck _build/html      # exits 1 with one line a problem

These read the HTML only; `make site-check` (tests/site/check.mjs) opens every page in a browser: WCAG checks,
every request a page makes, reflow on a phone.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MAX_PAGE_BYTES = 2 * 1024 * 1024
IMG_RE = re.compile(r"<img\b[^>]*>", re.I)
ALT_RE = re.compile(r"""\balt\s*=\s*(["'])(.*?)\1""", re.I | re.S)
# What a page loads by itself: scripts, images, frames, media, and stylesheets/preloads/icons (not <a> links, not
# <link rel="canonical">, which are addresses, not requests).
ASSET_RE = re.compile(r"<(script|img|iframe|source|video|audio|embed|link)\b[^>]*>", re.I)
SRC_RE = re.compile(r"""\b(src|href|srcset|poster)\s*=\s*(["'])\s*((?:https?:)?//[^"']*)\2""", re.I)
LOADED_REL_RE = re.compile(r"""\brel\s*=\s*(["'])[^"']*\b(stylesheet|preload|modulepreload|prefetch|icon)\b""", re.I)
INLINE_ANIMATION_RE = re.compile(r"data:image/(gif|apng|webp);base64", re.I)


def page_problems(page: Path, html: str, *, chapter: bool) -> list[str]:
    """Problems of one built page: over 2 MB, an image without alt text, an asset from outside the site, an
    animation inlined as base64, a chapter without its Colab badge."""
    problems = []
    size = len(html.encode())
    if size > MAX_PAGE_BYTES:
        problems.append(f"{page}: {size / 2**20:.2f} MB, over the 2 MB limit")
    for tag in IMG_RE.findall(html):
        alt = ALT_RE.search(tag)
        if not alt or not alt.group(2).strip():
            problems.append(f"{page}: image without alt text: {tag[:120]}")
    for match in ASSET_RE.finditer(html):
        tag = match.group(0)
        if match.group(1).lower() == "link" and not LOADED_REL_RE.search(tag):
            continue
        source = SRC_RE.search(tag)
        if source:
            problems.append(f"{page}: loads {source.group(3)} from outside the site (an offline reader has none)")
    if INLINE_ANIMATION_RE.search(html):
        problems.append(f"{page}: an animation inlined into the page: write it as a file beside the page")
    if chapter and "colab.research.google.com/github/" not in html:
        problems.append(f"{page}: chapter page without its Open-in-Colab badge")
    return problems


def site_problems(site: Path) -> list[str]:
    """Problems of every page of a built site; chapters are the pages under book/ (not the index or search)."""
    if not (site / "index.html").exists():
        return [f"{site}: no index.html — build the book first (make book)"]
    problems = []
    for page in sorted(site.rglob("*.html")):
        relative = page.relative_to(site)
        if relative.parts[0] in ("_static", "_sources"):
            continue
        chapter = relative.parts[0] == "book" and relative.name != "index.html"
        problems += page_problems(relative, page.read_text(errors="replace"), chapter=chapter)
    return problems


def main() -> int:
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    problems = site_problems(site)
    for problem in problems:
        print(problem)
    pages = [p for p in site.rglob("*.html") if "_static" not in p.parts]
    largest = max(pages, key=lambda p: p.stat().st_size, default=None)
    if largest is not None:
        print(
            f"sitecheck: {len(pages)} pages, largest {largest.relative_to(site)} "
            f"({largest.stat().st_size / 1024:.0f} KB), {len(problems)} problem(s)"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
