"""The chapters keep the book's conventions: objectives and time, captioned figures with alt text, every glued
number computed in its own chapter, no decimal typed into the prose, every exercise shown exactly once."""

import re
from pathlib import Path

import jupytext
import pytest

from glassbox.checks import EXERCISES
from glassbox.book import toc_chapters
from glassbox.exercise_blocks import EXERCISE_RE, parse_exercise

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = [c for c in toc_chapters(ROOT) if c.name != "quiz.md"]
IDS = [c.stem for c in CHAPTERS]


def notebook(chapter: Path):
    return jupytext.read(chapter, fmt="md:myst")


def markdown(chapter: Path) -> str:
    return "\n".join(c.source for c in notebook(chapter).cells if c.cell_type == "markdown")


def code(chapter: Path) -> str:
    return "\n".join(c.source for c in notebook(chapter).cells if c.cell_type == "code")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_chapter_opens_with_objectives_and_time(chapter):
    text = markdown(chapter)
    assert "**You will learn to**" in text and re.search(r"\*\*Time:\*\* about \d+ minutes|\*\*Time:\*\* \d+ minutes", text)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_every_figure_has_a_name_a_caption_and_alt_text(chapter):
    for cell in notebook(chapter).cells:
        options = cell.metadata.get("mystnb", {})
        if "figure" in options:
            assert options["figure"].get("name") and options["figure"].get("caption", "").strip()
            assert options.get("image", {}).get("alt", "").strip(), f"{options['figure']['name']} has no alt text"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_every_glued_number_is_computed_in_the_same_chapter(chapter):
    used = set(re.findall(r"\{glue(?::text)?\}`([^`:]+)", markdown(chapter)))
    glued = set(re.findall(r"""glue\(\s*["']([^"']+)["']""", code(chapter)))
    assert used <= glued, f"glued in prose but never computed: {sorted(used - glued)}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_no_decimal_number_is_typed_into_the_prose(chapter):
    text = markdown(chapter)
    text = re.sub(r"^(`{3,}|:{3,})\{exercise\}.*?^\1\s*$", "", text, flags=re.M | re.S)  # hints may quote code
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", "", text, flags=re.S)  # maths, code and glue roles
    text = re.sub(r"^#+ .*$|[Ee]xercise \d+\.\d+", "", text, flags=re.M)  # exercise numbers are not results
    typed = re.findall(r"(?<![\w.])\d+\.\d+", text)
    assert not typed, f"numbers typed into the prose (glue them from a cell): {typed}"


def test_every_exercise_appears_in_exactly_one_chapter_and_exists():
    shown = []
    for chapter in toc_chapters(ROOT):
        for match in EXERCISE_RE.finditer(chapter.read_text()):
            block = parse_exercise(match["target"], match["body"])
            block.stub(ROOT), block.solution(ROOT)  # both files hold the function
            shown.append(block.name)
    assert sorted(shown) == sorted(EXERCISES), "each exercise is shown once and each shown exercise is checked"
