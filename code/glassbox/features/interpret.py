"""Reading features against the text (chapters 14 and 15): properties of each character that can be read from the
text itself, the property that best explains when a feature fires (with its precision and recall), and a feature's
top-activating contexts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor


def _inside(text: str, quote: str) -> list[bool]:
    """Whether each character lies strictly between two `quote`s on the same line (the quotes themselves: no)."""
    flags, open_ = [], False
    for ch in text:
        if ch == "\n":
            open_ = False
            flags.append(False)
        elif ch == quote:
            open_ = not open_
            flags.append(False)
        else:
            flags.append(open_)
    return flags


def _in_code_block(text: str) -> list[bool]:
    """Whether each character lies inside a fenced block (between lines starting with three backticks)."""
    flags, open_ = [], False
    for line in text.splitlines(keepends=True):
        fence = line.startswith("```")
        flags += [open_ and not fence] * len(line)
        if fence:
            open_ = not open_
    return flags


def char_properties(text: str) -> dict[str, Bool[Tensor, "n"]]:
    """Properties of every character of `text` that can be read from the text itself."""
    chars = list(text)
    prev = ["\n"] + chars[:-1]
    nxt = chars[1:] + ["\n"]
    line_start = [p == "\n" for p in prev]
    flags = {
        "is a letter": [c.isalpha() for c in chars],
        "is uppercase": [c.isupper() for c in chars],
        "is a digit": [c.isdigit() for c in chars],
        "is a space": [c == " " for c in chars],
        "inside a word": [c.isalpha() and p.isalpha() for c, p in zip(chars, prev, strict=False)],
        "starts a word": [c.isalpha() and not p.isalpha() for c, p in zip(chars, prev, strict=False)],
        "starts a line": line_start,
        "next character is a space": [n == " " for n in nxt],
        "inside `inline code`": _inside(text, "`"),
        'inside a "string"': _inside(text, '"'),
        "inside $maths$": _inside(text, "$"),
        "inside a fenced code block": _in_code_block(text),
    }
    return {name: torch.tensor(values) for name, values in flags.items()}


def position_in_line(text: str) -> Int[Tensor, "n"]:
    """How many characters precede each character on its line (0 for the first)."""
    positions, column = [], 0
    for ch in text:
        positions.append(column)
        column = 0 if ch == "\n" else column + 1
    return torch.tensor(positions)


def token_properties(tokens: Int[Tensor, "n"], chars: str) -> dict[str, Bool[Tensor, "n"]]:
    """'is c' for the current character, 'follows c' for the previous one and 'precedes c' for the next one, for
    every character c of `chars`."""
    previous = torch.cat([tokens.new_full((1,), -1), tokens[:-1]])
    following = torch.cat([tokens[1:], tokens.new_full((1,), -1)])
    found = {f"is {chars[c]!r}": tokens == c for c in range(len(chars))}
    found |= {f"follows {chars[c]!r}": previous == c for c in range(len(chars))}
    found |= {f"precedes {chars[c]!r}": following == c for c in range(len(chars))}
    return found


@dataclass(frozen=True)
class Explanation:
    """The property that best matches where a feature fires: precision P(property | fires), recall
    P(fires | property)."""

    feature: int
    property: str
    precision: float
    recall: float


def best_properties(fires: Bool[Tensor, "n feature"], properties: dict[str, Bool[Tensor, "n"]]) -> list[Explanation]:
    """For every feature, the property with the highest F1 score (harmonic mean of precision and recall)."""
    names = list(properties)
    labels = torch.stack([properties[name] for name in names], -1).float()  # [n, property]
    fires = fires.float()
    both = fires.T @ labels  # [feature, property]
    precision = both / fires.sum(0)[:, None].clamp_min(1)
    recall = both / labels.sum(0)[None].clamp_min(1)
    f1 = 2 * precision * recall / (precision + recall).clamp_min(1e-12)
    best = f1.argmax(-1)
    return [
        Explanation(f, names[int(best[f])], float(precision[f, best[f]]), float(recall[f, best[f]]))
        for f in range(fires.shape[1])
    ]


@dataclass(frozen=True)
class Tally:
    """How many of some units (SAE features, neurons, directions) one simple property explains: `alive` fire
    somewhere, `good` are the explanations with at least the required precision."""

    n_units: int
    alive: list[Explanation]
    good: list[Explanation]


def explained_units(
    acts: Float[Tensor, "n unit"],
    properties: dict[str, Bool[Tensor, "n"]],
    min_precision: float = 0.9,
    strength: float = 0.3,
) -> Tally:
    """Score every unit the same way: a unit fires where its activation reaches `strength` times its largest one;
    its explanation is the property of best F1 (`best_properties`); it counts as explained when that property's
    precision is at least `min_precision`. Units that never go above zero are not alive."""
    peak = acts.max(0).values
    fires = (acts > strength * peak) & (peak > 0)
    explanations = best_properties(fires, properties)
    alive = [e for e in explanations if peak[e.feature] > 0]
    return Tally(acts.shape[1], alive, [e for e in alive if e.precision >= min_precision])


def top_contexts(
    acts: Float[Tensor, "n"], text: str, k: int = 6, before: int = 30, after: int = 5
) -> list[tuple[str, str, str, float]]:
    """The `k` characters where one feature is most active, each as (text before, the character, text after,
    activation); contexts are taken from `text`, which `acts` covers character for character."""
    if len(acts) != len(text):
        raise ValueError(f"need one activation per character, got {len(acts)} for {len(text)} characters")
    found = []
    for i in acts.topk(k).indices.tolist():
        found.append((text[max(0, i - before) : i], text[i], text[i + 1 : i + 1 + after], float(acts[i])))
    return found
