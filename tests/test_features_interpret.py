"""Reading features against the text (chapters 14 and 15): the text's properties on hand-made strings, the best
explanation of a feature against a brute-force count of precision, recall and F1, the tally of explained units at
the thresholds its docstring names, and a feature's top contexts cut from the text."""

from fractions import Fraction

import pytest
import torch
from glassbox.features import interpret

NAMES = [
    "is a letter",
    "is uppercase",
    "is a digit",
    "is a space",
    "inside a word",
    "starts a word",
    "starts a line",
    "next character is a space",
    "inside `inline code`",
    'inside a "string"',
    "inside $maths$",
    "inside a fenced code block",
]


def where(flags: torch.Tensor) -> list[int]:
    return flags.nonzero().flatten().tolist()


def test_every_property_of_a_hand_made_text():
    text = 'Ab 1 $x$ "q\nz"Cd\n```\nk `m`\n```\ne'
    props = interpret.char_properties(text)
    assert list(props) == NAMES
    assert all(p.dtype == torch.bool and p.shape == (len(text),) for p in props.values())
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    assert where(props["is a letter"]) == letters
    assert where(props["is uppercase"]) == [0, 14]
    assert where(props["is a digit"]) == [3]
    assert where(props["is a space"]) == [i for i, c in enumerate(text) if c == " "]
    assert where(props["inside a word"]) == [1, 15]  # 'b' after 'A', 'd' after 'C'
    assert where(props["starts a word"]) == [0, 6, 10, 12, 14, 21, 24, 31]
    assert where(props["starts a line"]) == [0, 12, 17, 21, 27, 31]
    assert where(props["next character is a space"]) == [1, 3, 7, 21]
    assert where(props["inside `inline code`"]) == [24]
    # the quote opened at 9 is closed by the line's end, so the '"' at 13 opens a string the next newline closes
    assert where(props['inside a "string"']) == [10, 14, 15]
    assert where(props["inside $maths$"]) == [6]
    assert where(props["inside a fenced code block"]) == list(range(21, 27))  # 'k `m`\n', not the fences


def test_fenced_blocks_open_and_close_on_fence_lines_only():
    text = "a\n```\nb\n```\nc ``` d\n"
    inside = interpret._in_code_block(text)
    assert len(inside) == len(text)
    assert [i for i, flag in enumerate(inside) if flag] == [6, 7]  # 'b\n'; a fence not at a line start is text
    assert interpret._in_code_block("```\nx") == [False] * 4 + [True]  # an unclosed block runs to the end
    assert interpret._in_code_block("x\ny") == [False] * 3


def test_a_quote_never_spans_a_newline():
    assert interpret._inside('"a\nb"c"', '"') == [False, True, False, False, False, True, False]
    assert interpret._inside("$a$b$", "$") == [False, True, False, False, False]


def test_position_in_line_counts_from_zero_after_each_newline():
    assert interpret.position_in_line("ab\n\ncd").tolist() == [0, 1, 2, 0, 0, 1]


def test_token_properties_name_the_current_previous_and_next_character():
    tokens = torch.tensor([1, 0, 2, 1, 1])
    props = interpret.token_properties(tokens, "ab\n")
    assert list(props) == [f"{kind} {c!r}" for kind in ("is", "follows", "precedes") for c in "ab\n"]
    assert all(p.shape == tokens.shape and p.dtype == torch.bool for p in props.values())
    assert where(props["is 'a'"]) == [1] and where(props["is 'b'"]) == [0, 3, 4] and where(props["is '\\n'"]) == [2]
    # nothing precedes the first token and nothing follows the last
    assert where(props["follows 'a'"]) == [2] and where(props["follows 'b'"]) == [1, 4]
    assert where(props["follows '\\n'"]) == [3]
    assert where(props["precedes 'a'"]) == [0] and where(props["precedes 'b'"]) == [2, 3]
    assert where(props["precedes '\\n'"]) == [1]


def brute_force(fires: torch.Tensor, properties: dict[str, torch.Tensor]) -> list[dict[str, tuple]]:
    """Exact precision, recall and F1 of every (feature, property), counted sample by sample."""
    table = []
    for f in range(fires.shape[1]):
        row = {}
        for name, holds in properties.items():
            on = [bool(x) for x in fires[:, f]]
            has = [bool(x) for x in holds]
            both = sum(a and b for a, b in zip(on, has, strict=True))
            precision = Fraction(both, max(sum(on), 1))
            recall = Fraction(both, max(sum(has), 1))
            f1 = 2 * precision * recall / (precision + recall) if both else Fraction(0)
            row[name] = (precision, recall, f1)
        table.append(row)
    return table


def test_best_properties_by_hand():
    # the feature fires on samples 0-9 of 20. 'wide' holds on 0 alone: precision 1/10, recall 1, F1 2/11.
    # 'half' holds on 0-2 and 10-16: precision 3/10, recall 3/10, F1 3/10, the best. 'narrow' holds on 10: F1 0.
    # (F1 is a harmonic mean: dividing by max(p + r, 1) instead of p + r would pick 'wide'.)
    fires = torch.zeros(20, 2, dtype=torch.bool)
    fires[:10, 0] = True
    fires[10, 1] = True  # feature 1 fires once, on sample 10
    wide, half, narrow = torch.zeros(20, dtype=torch.bool), torch.zeros(20, dtype=torch.bool), torch.zeros(20).bool()
    wide[0] = True
    half[[0, 1, 2, 10, 11, 12, 13, 14, 15, 16]] = True
    narrow[10] = True
    found = interpret.best_properties(fires, {"wide": wide, "half": half, "narrow": narrow})
    assert (found[0].feature, found[0].property) == (0, "half")
    assert (found[0].precision, found[0].recall) == (pytest.approx(0.3), pytest.approx(0.3))
    assert found[1] == interpret.Explanation(1, "narrow", 1.0, 1.0)  # fires once, where 'narrow' holds once


def test_best_properties_of_a_feature_that_never_fires_are_zeros_not_nans():
    fires = torch.zeros(4, 1, dtype=torch.bool)
    found = interpret.best_properties(fires, {"x": torch.tensor([True, False, True, False])})
    assert found == [interpret.Explanation(0, "x", 0.0, 0.0)]


def test_best_properties_agree_with_a_brute_force_count():
    generator = torch.Generator().manual_seed(0)
    for n, n_features, n_properties in [(30, 4, 7), (9, 6, 3), (50, 3, 5)]:
        fires = torch.rand(n, n_features, generator=generator) < torch.rand(n_features, generator=generator)
        properties = {
            f"p{j}": torch.rand(n, generator=generator) < torch.rand(1, generator=generator)
            for j in range(n_properties)
        }
        properties["never"] = torch.zeros(n, dtype=torch.bool)
        found = interpret.best_properties(fires, properties)
        table = brute_force(fires, properties)
        assert [e.feature for e in found] == list(range(n_features))
        for explanation, row in zip(found, table, strict=True):
            best = max(f1 for _, _, f1 in row.values())
            precision, recall, f1 = row[explanation.property]
            assert f1 == best, (explanation, row)
            if sum(value[2] == best for value in row.values()) == 1:  # a unique best: its numbers too
                assert explanation.precision == pytest.approx(float(precision))
                assert explanation.recall == pytest.approx(float(recall))


def test_explained_units_at_the_default_thresholds():
    # unit 0 reaches 2; it fires where it exceeds 0.3 · 2 = 0.6 (samples 0-3, not 4 at exactly 0.6, not 5 at 0.15)
    # unit 1 peaks at 0.5 and fires above 0.15; unit 2 is zero everywhere and unit 3 negative: neither is alive
    acts = torch.tensor(
        [
            [2.0, 0.0, 0.0, -1.0],
            [1.0, 0.0, 0.0, -0.5],
            [0.7, 0.0, 0.0, -2.0],
            [0.8, 0.5, 0.0, -1.0],
            [0.6, 0.2, 0.0, -1.0],
            [0.15, 0.1, 0.0, -1.0],
        ]
    )
    properties = {
        "first four": torch.tensor([True, True, True, True, False, False]),
        "last three": torch.tensor([False, False, False, True, True, True]),
    }
    tally = interpret.explained_units(acts, properties)
    assert tally.n_units == 4
    assert [(e.feature, e.property) for e in tally.alive] == [(0, "first four"), (1, "last three")]
    assert tally.alive[0].precision == 1.0 and tally.alive[0].recall == 1.0
    assert tally.alive[1].precision == 1.0 and tally.alive[1].recall == pytest.approx(2 / 3)  # fires on 3 and 4
    assert [e.feature for e in tally.good] == [0, 1]


def test_explained_units_count_a_unit_at_exactly_the_required_precision():
    # the unit fires on samples 0-3; 'three' holds on 0-2: precision exactly 3/4, recall 1
    acts = torch.tensor([[1.0], [1.0], [1.0], [1.0], [0.0], [0.0]])
    three = torch.tensor([True, True, True, False, False, False])
    assert len(interpret.explained_units(acts, {"three": three}, min_precision=0.75).good) == 1
    assert interpret.explained_units(acts, {"three": three}, min_precision=0.8).good == []
    assert interpret.explained_units(acts, {"three": three}).good == []  # the default asks for 0.9


def test_top_contexts_cut_the_text_around_the_most_active_characters():
    text = "".join(chr(ord("a") + i % 26) for i in range(100))
    acts = torch.zeros(100)
    acts[[50, 2, 97, 40, 70, 10, 60]] = torch.tensor([9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0])
    found = interpret.top_contexts(acts, text)  # k=6, 30 characters before, 5 after
    assert [entry[1] for entry in found] == [text[i] for i in (50, 2, 97, 40, 70, 10)]
    assert found[0] == (text[20:50], text[50], text[51:56], 9.0)
    assert found[1] == (text[0:2], text[2], text[3:8], 8.0)  # fewer than 30 characters before the text's start
    assert found[2] == (text[67:97], text[97], text[98:100], 7.0)  # fewer than 5 after its end
    assert interpret.top_contexts(acts, text, k=1, before=3, after=2) == [(text[47:50], text[50], text[51:53], 9.0)]
    with pytest.raises(ValueError, match="one activation per character, got 99 for 100"):
        interpret.top_contexts(acts[:99], text)
