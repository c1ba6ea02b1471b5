"""Self-check quizzes: grading, the pass mark, validation, the HTML form and the terminal command."""

import pytest

from glassbox.quiz import Question, Quiz, load_quiz, main, parse_letters


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


def test_pass_mark_is_inclusive():
    quiz = Quiz("t", tuple(Question(f"q{i}", ("a", "b"), frozenset({0})) for i in range(20)), pass_mark=0.85)
    assert quiz.grade([{0}] * 17 + [{1}] * 3).passed          # 0.85
    assert not quiz.grade([{0}] * 16 + [{1}] * 4).passed      # 0.80


def test_bad_questions_and_responses_are_clear_errors():
    with pytest.raises(ValueError, match="exactly one answer"):
        Question("q", ("a", "b"), frozenset({0, 1}))
    with pytest.raises(ValueError, match="are not options"):
        Question("q", ("a", "b"), frozenset({2}))
    with pytest.raises(ValueError, match="expected 2 responses"):
        small_quiz().grade([{1}])
    with pytest.raises(ValueError, match="answer with letters a–c"):
        parse_letters("a,z", 3)
    with pytest.raises(ValueError, match="no quiz named 'part99'"):
        load_quiz("part99")


def test_part1_quiz_loads_with_its_pass_mark_and_mixed_question_kinds():
    quiz = load_quiz("part1")
    assert quiz.pass_mark == 0.85 and len(quiz.questions) >= 6
    assert {q.kind for q in quiz.questions} == {"single", "multiple"}
    perfect = [set(q.answer) for q in quiz.questions]
    assert quiz.grade(perfect).score == 1.0


def test_html_form_has_every_option_and_the_grader():
    quiz = load_quiz("part1")
    page = quiz.to_html()
    assert page.count("<fieldset") == len(quiz.questions)
    assert page.count('type="checkbox"') == sum(len(q.options) for q in quiz.questions if q.kind == "multiple")
    assert "function glassboxGrade" in page and page == quiz.to_html(), "the form must be the same on every build"


def test_terminal_command_grades_letters(capsys):
    quiz = load_quiz("part1")
    letters = ";".join(",".join("abcdefgh"[i] for i in sorted(q.answer)) for q in quiz.questions)
    assert main(["part1", "--answers", letters]) == 0
    assert "score 1.00: passed" in capsys.readouterr().out
    wrong = ";".join(["a"] * len(quiz.questions))
    assert main(["part1", "--answers", wrong]) == 1
