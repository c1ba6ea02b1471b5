"""Self-check quizzes at the end of each part: graded in the page (HTML + a little JavaScript) or on the command line.

    python -m glassbox.quiz part1                      # asks each question in the terminal
    python -m glassbox.quiz part1 --answers "b;a,b,d"  # grades answers given as letters, one group a question
"""

from __future__ import annotations

import argparse
import html
import json
import string
import sys
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from importlib import resources

import yaml

LETTERS = string.ascii_lowercase


@dataclass(frozen=True)
class Question:
    """A multiple-choice (`single`) or multiple-select (`multiple`) question; `answer` holds option indices."""

    prompt: str
    options: tuple[str, ...]
    answer: frozenset[int]
    explanation: str = ""
    kind: str = "single"

    def __post_init__(self) -> None:
        if self.kind not in ("single", "multiple"):
            raise ValueError(f"question {self.prompt!r}: kind must be 'single' or 'multiple', got {self.kind!r}")
        if not self.answer or not all(0 <= i < len(self.options) for i in self.answer):
            raise ValueError(f"question {self.prompt!r}: answer indices {sorted(self.answer)} are not options")
        if self.kind == "single" and len(self.answer) != 1:
            raise ValueError(f"question {self.prompt!r}: a single-choice question needs exactly one answer")


@dataclass(frozen=True)
class QuizResult:
    """How many questions were answered exactly right, the score, and whether it reaches the pass mark."""

    correct: tuple[bool, ...]
    score: float
    passed: bool

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "not passed yet"
        return f"{sum(self.correct)}/{len(self.correct)} correct, score {self.score:.2f}: {verdict}"


@dataclass(frozen=True)
class Quiz:
    title: str
    questions: tuple[Question, ...]
    pass_mark: float = 0.85

    def grade(self, responses: Sequence[Collection[int]]) -> QuizResult:
        """Grade one response per question (the chosen option indices); a question counts only if exactly right."""
        if len(responses) != len(self.questions):
            raise ValueError(f"expected {len(self.questions)} responses, one a question, got {len(responses)}")
        correct = tuple(set(r) == set(q.answer) for q, r in zip(self.questions, responses))
        score = sum(correct) / len(correct)
        return QuizResult(correct, score, score >= self.pass_mark)

    def to_html(self) -> str:
        """The quiz as a self-contained form; answers are checked in the browser, nothing is sent anywhere."""
        quiz_id = f"quiz-{uuid.uuid5(uuid.NAMESPACE_URL, self.title).hex[:8]}"  # stable across builds
        parts = [f'<form class="glassbox-quiz" id="{quiz_id}" onsubmit="return false;">']
        for n, question in enumerate(self.questions):
            kind = "radio" if question.kind == "single" else "checkbox"
            note = "" if question.kind == "single" else " <em>(select all that apply)</em>"
            parts.append(f'<fieldset data-q="{n}"><legend><strong>{n + 1}.</strong> {html.escape(question.prompt)}{note}</legend>')
            for i, option in enumerate(question.options):
                parts.append(
                    f'<label style="display:block"><input type="{kind}" name="{quiz_id}-{n}" value="{i}"> '
                    f"{LETTERS[i]}) {html.escape(option)}</label>"
                )
            parts.append(f'<p class="quiz-feedback" hidden>{html.escape(question.explanation)}</p></fieldset>')
        answers = json.dumps([sorted(q.answer) for q in self.questions])
        parts.append(
            f'<button type="button" onclick="glassboxGrade(\'{quiz_id}\', {answers}, {self.pass_mark})">'
            "Check my answers</button> <span class=\"quiz-score\"></span></form>"
        )
        parts.append(_GRADER_JS)
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


_GRADER_JS = """<script>
function glassboxGrade(id, answers, passMark) {
  const form = document.getElementById(id);
  let right = 0;
  answers.forEach((answer, n) => {
    const set = form.querySelector(`fieldset[data-q="${n}"]`);
    const chosen = [...set.querySelectorAll("input:checked")].map(i => Number(i.value)).sort();
    const ok = chosen.length === answer.length && chosen.every((v, i) => v === answer[i]);
    right += ok;
    const feedback = set.querySelector(".quiz-feedback");
    feedback.hidden = false;
    feedback.textContent = (ok ? "✓ Right. " : "✗ Not quite. ") + feedback.textContent.replace(/^[✓✗][^.]*\\. /, "");
  });
  const score = right / answers.length;
  form.querySelector(".quiz-score").textContent =
    `${right}/${answers.length} correct (score ${score.toFixed(2)}): ` +
    (score >= passMark ? "passed." : `not yet — the pass mark is ${passMark}.`);
}
</script>"""


def load_quiz(name: str) -> Quiz:
    """Load a quiz shipped with the library by name, e.g. `load_quiz("part1")`."""
    path = resources.files("glassbox.quizzes") / f"{name}.yml"
    if not path.is_file():
        raise ValueError(f"no quiz named {name!r}")
    data = yaml.safe_load(path.read_text())
    questions = tuple(
        Question(q["prompt"], tuple(q["options"]), frozenset(q["answer"]), q.get("explanation", ""), q.get("kind", "single"))
        for q in data["questions"]
    )
    return Quiz(data["title"], questions, data.get("pass_mark", 0.85))


def parse_letters(text: str, n_options: int) -> set[int]:
    """Turn "a,c" into {0, 2}; a letter beyond the options is an error."""
    chosen = {LETTERS.index(c) for c in text.replace(",", " ").split() if c in LETTERS} if text.strip() else set()
    bad = [c for c in text.replace(",", " ").split() if c not in LETTERS[:n_options]]
    if bad:
        raise ValueError(f"{', '.join(bad)}: answer with letters a–{LETTERS[n_options - 1]}")
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Take a Glass Box self-check quiz in the terminal.")
    parser.add_argument("name", help="which quiz, e.g. part1")
    parser.add_argument("--answers", help='letters for every question, separated by ";", e.g. "b;a,c;d"')
    args = parser.parse_args(argv)
    quiz = load_quiz(args.name)
    print(quiz.title)
    given = args.answers.split(";") if args.answers else None
    if given is not None and len(given) != len(quiz.questions):
        parser.error(f"--answers has {len(given)} groups; the quiz has {len(quiz.questions)} questions")
    responses = []
    for n, question in enumerate(quiz.questions):
        if given is None:
            print(f"\n{n + 1}. {question.prompt}")
            for i, option in enumerate(question.options):
                print(f"   {LETTERS[i]}) {option}")
            text = input("answer (letters, e.g. a or a,c): " if question.kind == "multiple" else "answer (a letter): ")
        else:
            text = given[n]
        responses.append(parse_letters(text, len(question.options)))
    result = quiz.grade(responses)
    for n, (question, ok) in enumerate(zip(quiz.questions, result.correct)):
        print(f"{n + 1}. {'right' if ok else 'wrong'} — {question.explanation}")
    print(result)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
