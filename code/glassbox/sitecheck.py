"""Checks on the built site that a reader would notice: page weight, alt text, and the Colab badges.

    python -m glassbox.sitecheck _build/html      # exits 1 with one line a problem
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MAX_PAGE_BYTES = 2 * 1024 * 1024
IMG_RE = re.compile(r"<img\b[^>]*>", re.I)
ALT_RE = re.compile(r"""\balt\s*=\s*(["'])(.*?)\1""", re.I | re.S)


def page_problems(page: Path, html: str, *, chapter: bool) -> list[str]:
    """Problems of one built page: over 2 MB, an image without alt text, a chapter without its Colab badge."""
    problems = []
    size = len(html.encode())
    if size > MAX_PAGE_BYTES:
        problems.append(f"{page}: {size / 2**20:.2f} MB, over the 2 MB limit")
    for tag in IMG_RE.findall(html):
        alt = ALT_RE.search(tag)
        if not alt or not alt.group(2).strip():
            problems.append(f"{page}: image without alt text: {tag[:120]}")
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
        print(f"sitecheck: {len(pages)} pages, largest {largest.relative_to(site)} "
              f"({largest.stat().st_size / 1024:.0f} KB), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
