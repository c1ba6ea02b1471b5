"""The built-site checks catch heavy pages, images without alt text, assets from outside the site, inlined
animations and chapters without a Colab badge."""

from pathlib import Path

from glassbox_build.sitecheck import MAX_PAGE_BYTES, page_problems, site_problems

BADGE = '<a href="https://colab.research.google.com/github/o/r/blob/colab/book/x.ipynb">'


def test_a_good_chapter_page_passes():
    assert page_problems(Path("book/x.html"), f'{BADGE}<img src="a.png" alt="A heatmap">', chapter=True) == []


def test_each_problem_is_one_line():
    assert "over the 2 MB limit" in page_problems(Path("p.html"), "x" * (MAX_PAGE_BYTES + 1), chapter=False)[0]
    assert "without alt text" in page_problems(Path("p.html"), '<img src="a.png">', chapter=False)[0]
    assert "without alt text" in page_problems(Path("p.html"), '<img alt="  " src="a.png">', chapter=False)[0]
    assert "Open-in-Colab badge" in page_problems(Path("book/x.html"), "<p>text</p>", chapter=True)[0]


def test_site_without_index_is_reported(tmp_path):
    assert "build the book first" in site_problems(tmp_path)[0]


def test_chapters_are_pages_under_book(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "index.html").write_text("<p>root</p>")
    (tmp_path / "book" / "ch.html").write_text("<p>no badge</p>")
    (tmp_path / "book" / "index.html").write_text("<p>landing page</p>")
    assert site_problems(tmp_path) == ["book/ch.html: chapter page without its Open-in-Colab badge"]


def test_assets_from_outside_the_site_are_reported_links_are_not():
    cdn = '<script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
    assert "from outside the site" in page_problems(Path("p.html"), cdn, chapter=False)[0]
    badge = '<img src="https://colab.research.google.com/assets/colab-badge.svg" alt="Open in Colab">'
    assert "colab-badge.svg from outside" in page_problems(Path("p.html"), badge, chapter=False)[0]
    assert page_problems(Path("p.html"), '<link rel="stylesheet" href="//fonts.example/x.css">', chapter=False)
    fine = (
        '<a href="https://example.org">a link</a><link rel="canonical" href="https://glass-box.example/p.html">'
        '<script src="../_static/mathjax/tex-chtml.js"></script><img src="../_static/colab-badge.svg" alt="b">'
    )
    assert page_problems(Path("p.html"), fine, chapter=False) == []


def test_an_inlined_animation_is_reported():
    page = '<img src="data:image/gif;base64,R0lGODlh" alt="Animation">'
    assert page_problems(Path("p.html"), page, chapter=False) == [
        "p.html: an animation inlined into the page: write it as a file beside the page"
    ]
