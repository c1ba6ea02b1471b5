"""Self-check quizzes at the end of each part: graded in the page (HTML + a little JavaScript) or on the command line.

    python -m glassbox.checking.quiz part1                      # asks each question in the terminal
    python -m glassbox.checking.quiz part1 --answers "b;a,c;d"  # grades answers given as letters, one group a question

Option order carries no information: the quiz files list the right option wherever it reads best, and
`load_quiz` places the options in an order drawn from a generator seeded by the quiz's name (the same on every
build), spreading the right answers of single-choice questions evenly over the positions. Numbers in
compute-and-predict questions come from `glassbox.checking.quiz_facts` (`{{name:format}}` in the quiz file).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import math
import random
import re
import string
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import yaml

from glassbox.checking import quiz_facts

LETTERS = string.ascii_lowercase
PLACEHOLDER = re.compile(r"\{\{(\w+)(?::([^}]*))?\}\}")


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
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"question {self.prompt!r}: two options read the same")


@dataclass(frozen=True)
class QuizResult:
    """How many questions were answered exactly right, how many the pass mark needs, and whether it is reached."""

    correct: tuple[bool, ...]
    needed: int

    @property
    def right(self) -> int:
        return sum(self.correct)

    @property
    def score(self) -> float:
        return self.right / len(self.correct)

    @property
    def passed(self) -> bool:
        return self.right >= self.needed

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "not passed yet"
        return f"{self.right} of {len(self.correct)} — {self.needed} needed: {verdict}"


@dataclass(frozen=True)
class Quiz:
    title: str
    questions: tuple[Question, ...]
    pass_mark: float = 0.85

    @property
    def needed(self) -> int:
        """How many questions must be right to pass: the pass mark of the questions, rounded up."""
        return math.ceil(self.pass_mark * len(self.questions) - 1e-9)

    def grade(self, responses: Sequence[Collection[int]]) -> QuizResult:
        """Grade one response per question (the chosen option indices); a question counts only if exactly right."""
        if len(responses) != len(self.questions):
            raise ValueError(f"expected {len(self.questions)} responses, one a question, got {len(responses)}")
        correct = tuple(set(r) == set(q.answer) for q, r in zip(self.questions, responses, strict=True))
        return QuizResult(correct, self.needed)

    def to_html(self) -> str:
        """The quiz as a self-contained form; answers are checked in the browser, nothing is sent anywhere.

        For screen readers and keyboards: the button submits (Enter grades too); the result is announced by a live
        region present from page load, and focus moves to it, with links to the questions to look at again; each
        question is described by its feedback once shown, and the ✓/✗ marks are hidden from speech (the words
        "Right."/"Not quite." carry the verdict).
        """
        quiz_id = f"quiz-{uuid.uuid5(uuid.NAMESPACE_URL, self.title).hex[:8]}"  # stable across builds
        answers = html.escape(json.dumps([sorted(q.answer) for q in self.questions]), quote=True)
        parts = [
            f'<form class="glassbox-quiz" id="{quiz_id}" data-answers="{answers}" data-needed="{self.needed}" '
            "novalidate>"
        ]
        for n, question in enumerate(self.questions):
            kind = "radio" if question.kind == "single" else "checkbox"
            note = "" if question.kind == "single" else " <em>(select all that apply)</em>"
            prompt = html.escape(question.prompt)
            parts.append(
                f'<fieldset data-q="{n}" id="{quiz_id}-q{n + 1}">'
                f"<legend><strong>{n + 1}.</strong> {prompt}{note}</legend>"
            )
            for i, option in enumerate(question.options):
                parts.append(
                    f'<label class="quiz-option"><input type="{kind}" name="{quiz_id}-{n}" value="{i}"> '
                    f"{LETTERS[i]}) {html.escape(option)}</label>"
                )
            parts.append(
                f'<p class="quiz-feedback" id="{quiz_id}-fb{n + 1}" hidden><span class="quiz-mark" aria-hidden="true">'
                f'</span><span class="quiz-verdict"></span> {html.escape(question.explanation)}</p></fieldset>'
            )
        parts.append(
            '<button type="submit">Check my answers</button>'
            '<div class="quiz-summary" tabindex="-1" role="status" aria-live="polite" aria-atomic="true"></div></form>'
        )
        parts.append(_GRADER_JS)
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


_GRADER_JS = """<script>
(function () {
  function grade(form) {
    const answers = JSON.parse(form.dataset.answers), needed = Number(form.dataset.needed), wrong = [];
    let right = 0;
    answers.forEach((answer, n) => {
      const set = form.querySelector(`fieldset[data-q="${n}"]`);
      const chosen = [...set.querySelectorAll("input:checked")].map(i => Number(i.value)).sort();
      const ok = chosen.length === answer.length && chosen.every((v, i) => v === answer[i]);
      right += ok;
      if (!ok) wrong.push(set);
      const feedback = set.querySelector(".quiz-feedback");
      feedback.querySelector(".quiz-mark").textContent = ok ? "✓ " : "✗ ";
      feedback.querySelector(".quiz-verdict").textContent = ok ? "Right." : "Not quite.";
      feedback.hidden = false;
      set.setAttribute("aria-describedby", feedback.id);
    });
    const summary = form.querySelector(".quiz-summary");
    summary.textContent = `${right} of ${answers.length} — ${needed} needed: ` +
      (right >= needed ? "passed." : "not passed yet.");
    if (wrong.length) {
      summary.append(" Look again at ");
      wrong.forEach((set, k) => {
        const link = document.createElement("a");
        link.href = "#" + set.id;
        link.textContent = "question " + (Number(set.dataset.q) + 1);
        summary.append(k ? (k === wrong.length - 1 ? " and " : ", ") : "", link);
      });
      summary.append(".");
    }
    summary.focus();
  }
  document.querySelectorAll("form.glassbox-quiz:not([data-bound])").forEach((form) => {
    form.dataset.bound = "1";
    form.addEventListener("submit", (event) => { event.preventDefault(); grade(form); });
  });
})();
</script>"""


def _fill(text: str, facts: dict[str, Any], where: str) -> str:
    def value(match: re.Match) -> str:
        name, spec = match.group(1), match.group(2) or ""
        if name not in facts:
            raise ValueError(f"{where}: no fact named {name!r} in glassbox.checking.quiz_facts")
        return format(facts[name], spec)

    return PLACEHOLDER.sub(value, text)


def arrange(questions: Sequence[Question], seed: str) -> tuple[Question, ...]:
    """The questions with their options in an order that says nothing about the answer, the same for every build.

    Each single-choice answer goes to one of the positions used least so far (ties drawn at random) and the other
    options are shuffled around it; a multiple-select question takes, of a few shuffles, the one that spreads its
    right options over the positions used least.
    """
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))
    single, multiple = Counter(), Counter()
    arranged = []
    for question in questions:
        n = len(question.options)
        if question.kind == "single":
            order = rng.sample(range(n), n)  # new position p shows old option order[p]
            (right,) = question.answer
            fewest = min(single[p] for p in range(n))
            target = rng.choice([p for p in range(n) if single[p] == fewest])
            here = order.index(right)
            order[here], order[target] = order[target], order[here]
            single[target] += 1
        else:
            tries = [rng.sample(range(n), n) for _ in range(8)]
            order = min(tries, key=lambda o: sorted((multiple[o.index(i)] for i in question.answer), reverse=True))
            multiple.update(order.index(i) for i in question.answer)
        arranged.append(
            replace(
                question,
                options=tuple(question.options[i] for i in order),
                answer=frozenset(order.index(i) for i in question.answer),
            )
        )
    return tuple(arranged)


def load_quiz(name: str, facts: Callable[[str], dict[str, Any]] | None = None) -> Quiz:
    """Load a quiz shipped with the library by name, e.g. `load_quiz("part1")`, with its facts filled in and its
    options arranged."""
    path = resources.files("glassbox.checking.quizzes") / f"{name}.yml"
    if not path.is_file():
        raise ValueError(f"no quiz named {name!r}")
    data = yaml.safe_load(path.read_text())
    known = (facts or quiz_facts.facts)(name)
    questions = []
    for n, q in enumerate(data["questions"], 1):
        where = f"{name} question {n}"
        questions.append(
            Question(
                _fill(q["prompt"], known, where),
                tuple(_fill(str(option), known, where) for option in q["options"]),
                frozenset(q["answer"]),
                _fill(q.get("explanation", ""), known, where),
                q.get("kind", "single"),
            )
        )
    return Quiz(data["title"], arrange(questions, seed=name), data.get("pass_mark", 0.85))


def parse_letters(text: str, question: Question) -> set[int]:
    """Turn "a,c", "a c", "ac" or "A C" into {0, 2}; raise ValueError with a sentence for anything else."""
    n = len(question.options)
    letters = re.sub(r"[\s,;]+", "", text.lower())
    if not letters:
        raise ValueError("type a letter" + ("" if question.kind == "single" else " or several"))
    bad = sorted({c for c in letters if c not in LETTERS[:n]})
    if bad:
        raise ValueError(f"{', '.join(repr(c) for c in bad)}: answer with letters a–{LETTERS[n - 1]}")
    chosen = {LETTERS.index(c) for c in letters}
    if question.kind == "single" and len(chosen) > 1:
        raise ValueError("one letter: this question has one right answer")
    return chosen


def _ask(question: Question, number: int) -> set[int] | None:
    """Ask until the answer reads; None when the reader ends the input (Ctrl-D) or interrupts (Ctrl-C)."""
    print(f"\n{number}. {question.prompt}")
    for i, option in enumerate(question.options):
        print(f"   {LETTERS[i]}) {option}")
    prompt = "answer (letters, e.g. a or a,c): " if question.kind == "multiple" else "answer (a letter): "
    while True:
        try:
            text = input(prompt)
        except (EOFError, KeyboardInterrupt):
            print()
            return None
        try:
            return parse_letters(text, question)
        except ValueError as error:
            print(f"   {error} — try again")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Take a Glass Box self-check quiz in the terminal.")
    parser.add_argument("name", help="which quiz, e.g. part1")
    parser.add_argument("--answers", help='letters for every question, separated by ";", e.g. "b;a,c;d"')
    args = parser.parse_args(argv)
    try:
        quiz = load_quiz(args.name)
    except ValueError as error:
        parser.error(str(error))
    n = len(quiz.questions)
    print(f"{quiz.title}\n{n} questions; the pass mark is {quiz.pass_mark:.0%}: {quiz.needed} of {n} right.")
    given = args.answers.split(";") if args.answers is not None else None
    if given is not None and len(given) != n:
        parser.error(f"--answers has {len(given)} groups; the quiz has {n} questions")
    responses: list[set[int]] = []
    for number, question in enumerate(quiz.questions, 1):
        if given is None:
            answer = _ask(question, number)
            if answer is None:
                print(f"Stopped after {len(responses)} of {n} questions; the rest count as not answered.")
                break
        else:
            try:
                answer = parse_letters(given[number - 1], question)
            except ValueError as error:
                parser.error(f"--answers, question {number}: {error}")
        responses.append(answer)
    result = quiz.grade(responses + [set()] * (n - len(responses)))
    for number, (question, ok) in enumerate(zip(quiz.questions, result.correct, strict=True), 1):
        mark = "right" if ok else ("wrong" if number <= len(responses) else "not answered")
        print(f"{number}. {mark} — {question.explanation}")
    print(result)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
