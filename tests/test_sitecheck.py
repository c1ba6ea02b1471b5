"""The built-site checks catch heavy pages, images without alt text and chapters without a Colab badge."""

from pathlib import Path

from glassbox.sitecheck import MAX_PAGE_BYTES, page_problems, site_problems

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
