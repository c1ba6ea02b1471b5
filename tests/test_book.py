"""The chapters keep the book's conventions: objectives and time, captioned figures with alt text, every glued
number computed in its own chapter, no decimal typed into the prose, every exercise shown exactly once."""

import ast
import re
from pathlib import Path

import jupytext
import pytest
from glassbox.checking.checks import EXERCISES
from glassbox_build.book import toc_chapters
from glassbox_build.exercise_blocks import EXERCISE_RE, parse_exercise

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
    assert "**You will learn to**" in text and re.search(
        r"\*\*Time:\*\* about \d+ minutes|\*\*Time:\*\* \d+ minutes", text
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_every_figure_has_a_name_a_caption_and_alt_text(chapter):
    for cell in notebook(chapter).cells:
        options = cell.metadata.get("mystnb", {})
        if "figure" in options:
            assert options["figure"].get("name") and options["figure"].get("caption", "").strip()
            assert options.get("image", {}).get("alt", "").strip(), f"{options['figure']['name']} has no alt text"


def glued_names(source: str) -> set[str]:
    """The names a chapter's code glues: `glue("name", …)` and every keyword of `glue_all(name=…, …)`."""
    names = set()
    for cell in source.split("\n\n# --- cell\n"):
        tree = ast.parse("\n".join(line for line in cell.splitlines() if not line.lstrip().startswith(("%", "!"))))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "glue" and node.args and isinstance(node.args[0], ast.Constant):
                    names.add(node.args[0].value)
                elif node.func.id == "glue_all":
                    names |= {keyword.arg for keyword in node.keywords}
    return names


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_every_glued_number_is_computed_in_the_same_chapter(chapter):
    used = set(re.findall(r"\{glue(?::text)?\}`([^`:]+)", markdown(chapter)))
    cells = [c.source for c in notebook(chapter).cells if c.cell_type == "code"]
    glued = glued_names("\n\n# --- cell\n".join(cells))
    assert used <= glued, f"glued in prose but never computed: {sorted(used - glued)}"


def test_glued_names_are_read_from_the_code_not_one_line_per_value():
    source = 'glue("a", 1, display=False)\nglue_all(b=2,\n         c=3)\nx = "glue(\'d\', 4)"'
    assert glued_names(source) == {"a", "b", "c"}


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
