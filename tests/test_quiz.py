"""Self-check quizzes: grading and the pass mark, option order that gives nothing away, facts computed rather than
typed, the HTML form, and a terminal grader that survives whatever a reader types."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from glassbox.checking.quiz import Question, Quiz, arrange, load_quiz, main, parse_letters

QUIZZES = [f"part{n}" for n in range(1, 7)]
FILES = Path(__file__).resolve().parents[1] / "code" / "glassbox" / "checking" / "quizzes"


def small_quiz() -> Quiz:
    return Quiz(
        "t",
        (
            Question("one?", ("a", "b"), frozenset({1})),
            Question("many?", ("a", "b", "c"), frozenset({0, 2}), kind="multiple"),
        ),
        pass_mark=0.85,
    )


def test_a_question_counts_only_when_exactly_right():
    quiz = small_quiz()
    assert quiz.grade([{1}, {0, 2}]).passed
    partial = quiz.grade([{1}, {0}])
    assert partial.correct == (True, False) and partial.score == 0.5 and not partial.passed
    assert not quiz.grade([{1}, {0, 1, 2}]).correct[1]


def test_pass_mark_is_a_number_of_questions_and_the_result_says_so():
    quiz = Quiz("t", tuple(Question(f"q{i}", ("a", "b"), frozenset({0})) for i in range(13)), pass_mark=0.85)
    assert quiz.needed == 12  # 0.85 · 13 = 11.05: eleven right is not a pass, though it rounds to 0.85
    assert str(quiz.grade([{0}] * 11 + [{1}] * 2)) == "11 of 13 — 12 needed: not passed yet"
    assert str(quiz.grade([{0}] * 12 + [{1}])) == "12 of 13 — 12 needed: passed"
    twenty = Quiz("t", tuple(Question(f"q{i}", ("a", "b"), frozenset({0})) for i in range(20)), pass_mark=0.85)
    assert twenty.needed == 17 and twenty.grade([{0}] * 17 + [{1}] * 3).passed


def test_bad_questions_and_responses_are_clear_errors():
    with pytest.raises(ValueError, match="exactly one answer"):
        Question("q", ("a", "b"), frozenset({0, 1}))
    with pytest.raises(ValueError, match="are not options"):
        Question("q", ("a", "b"), frozenset({2}))
    with pytest.raises(ValueError, match="two options read the same"):
        Question("q", ("a", "a"), frozenset({0}))
    with pytest.raises(ValueError, match="expected 2 responses"):
        small_quiz().grade([{1}])
    with pytest.raises(ValueError, match="no quiz named 'part99'"):
        load_quiz("part99")
    with pytest.raises(ValueError, match=r"part1 question \d+: no fact named '\w+' in glassbox.checking.quiz_facts"):
        load_quiz("part1", facts=lambda name: {})


def test_letters_in_any_case_with_or_without_separators():
    single, many = small_quiz().questions
    assert parse_letters("B", single) == {1}
    assert parse_letters("ac", many) == parse_letters("a, c", many) == parse_letters("A C", many) == {0, 2}
    for text, why in (("z", "answer with letters a–c"), ("abd", "'d'"), ("", "type a letter"), ("  ", "type a letter")):
        with pytest.raises(ValueError, match=why):
            parse_letters(text, many)
    with pytest.raises(ValueError, match="one letter"):
        parse_letters("ab", single)


@pytest.mark.parametrize("name", QUIZZES)
def test_every_quiz_loads_with_its_facts_filled_in(name):
    quiz = load_quiz(name)
    assert quiz.pass_mark == 0.85 and len(quiz.questions) >= 8
    text = " ".join(q.prompt + q.explanation + " ".join(q.options) for q in quiz.questions)
    assert "{{" not in text and "}}" not in text
    assert quiz.grade([set(q.answer) for q in quiz.questions]).score == 1.0


@pytest.mark.parametrize("name", QUIZZES)
def test_every_quiz_has_compute_or_predict_questions_whose_numbers_are_computed(name):
    raw = yaml.safe_load((FILES / f"{name}.yml").read_text())["questions"]
    computed = [q for q in raw if "{{" in q.get("explanation", "") or any("{{" in str(o) for o in q["options"])]
    assert len(computed) >= 2, f"{name}: add questions that make the reader compute or predict"


def test_answer_positions_carry_no_information():
    """Over each quiz and over the book, the right answer sits at every position about equally often: no constant
    answer scores anywhere near the pass mark, and no letter is in every multiple-select answer."""
    book = Counter()
    multiple_letters = []
    for name in QUIZZES:
        quiz = load_quiz(name)
        singles = [next(iter(q.answer)) for q in quiz.questions if q.kind == "single"]
        counts = Counter(singles)
        book.update(singles)
        assert max(counts.values()) - min(counts[p] for p in range(4)) <= 1, (name, counts)
        for letter in range(4):
            constant = [{letter} if q.kind == "single" else {letter} for q in quiz.questions]
            assert quiz.grade(constant).score <= 0.3, (name, letter)
        multiple_letters += [q.answer for q in quiz.questions if q.kind == "multiple"]
    assert max(book.values()) - min(book.values()) <= 2, book
    assert not set.intersection(*map(set, multiple_letters)), "a letter is in every multiple-select answer"


@pytest.mark.slow
def test_option_order_is_the_same_on_every_build_and_in_every_process():
    order = [q.options for q in load_quiz("part2").questions]
    assert order == [q.options for q in load_quiz("part2").questions]
    code = "from glassbox.checking.quiz import load_quiz; print([q.options for q in load_quiz('part2').questions])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "1"},
    ).stdout  # another process, another hash seed
    assert out.strip() == str(order)


def test_arrange_moves_the_answer_with_its_option():
    questions = [Question(f"q{i}", ("right", "w1", "w2", "w3"), frozenset({0})) for i in range(8)]
    arranged = arrange(questions, seed="x")
    assert all(q.options[next(iter(q.answer))] == "right" for q in arranged)
    assert sorted(Counter(next(iter(q.answer)) for q in arranged).values()) == [2, 2, 2, 2]


def test_html_form_has_every_option_and_the_grader_says_how_many_are_needed():
    quiz = load_quiz("part1")
    page = quiz.to_html()
    assert page.count("<fieldset") == len(quiz.questions)
    assert page.count('type="checkbox"') == sum(len(q.options) for q in quiz.questions if q.kind == "multiple")
    assert page == load_quiz("part1").to_html(), "the same form on every build"
    assert f'data-needed="{quiz.needed}"' in page and "${right} of ${answers.length} — ${needed} needed: " in page
    # screen readers and keyboards: a submit button (Enter grades), a live region there from the start that takes
    # the focus, and each question described by its feedback
    assert '<button type="submit">' in page and "onclick" not in page and 'style="' not in page
    assert 'role="status" aria-live="polite"' in page and "summary.focus()" in page
    assert page.count('class="quiz-feedback" id="') == len(quiz.questions) and 'setAttribute("aria-describedby"' in page
    assert page.count('aria-hidden="true"') == len(quiz.questions), "the ✓/✗ marks are not read out"


def letters(quiz: Quiz, pick) -> str:
    return ";".join("".join("abcdefgh"[i] for i in sorted(pick(q))) for q in quiz.questions)


def test_terminal_command_grades_letters_and_states_the_pass_mark(capsys):
    quiz = load_quiz("part1")
    n = len(quiz.questions)
    assert main(["part1", "--answers", letters(quiz, lambda q: q.answer).upper()]) == 0
    out = capsys.readouterr().out
    assert f"{n} questions; the pass mark is 85%: {quiz.needed} of {n} right." in out
    assert out.rstrip().endswith(f"{n} of {n} — {quiz.needed} needed: passed")
    assert main(["part1", "--answers", ";".join(["a"] * n)]) == 1


def test_terminal_bad_answers_given_on_the_command_line_are_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["part1", "--answers", ";".join(["z"] * len(load_quiz("part1").questions))])
    assert stop.value.code == 2
    assert "--answers, question 1: 'z': answer with letters a–" in capsys.readouterr().err


def test_terminal_reprompts_on_bad_input_and_grades_what_was_answered_at_ctrl_d(monkeypatch, capsys):
    quiz = load_quiz("part1")
    first = "abcd"[next(iter(quiz.questions[0].answer))]
    typed = iter(["", "zz", first.upper() + "b", first.upper()])

    def fake_input(prompt=""):
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    assert main(["part1"]) == 1
    out = capsys.readouterr().out
    assert "type a letter — try again" in out and "answer with letters" in out and "one letter" in out
    assert f"Stopped after 1 of {len(quiz.questions)} questions" in out
    assert "1. right" in out and "2. not answered" in out
    assert out.rstrip().endswith(f"1 of {len(quiz.questions)} — {quiz.needed} needed: not passed yet")
