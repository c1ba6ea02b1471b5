"""The rules of Part III: each generator against its own verifier, each verifier against corruption, and the
hand-checkable details (plus_last_even's targets, lucky7 at the start, clear errors)."""

import numpy as np
import pytest
from glassbox.rules import RULES, PlusLastEven, get_rule


@pytest.mark.parametrize("name", RULES)
def test_generated_sequences_obey_the_rule(name):
    rule = get_rule(name)
    sequences = rule.generate(200, np.random.default_rng(0))
    assert len(sequences) == 200
    assert all(rule.min_length <= len(s) <= rule.max_length for s in sequences)
    assert all(rule.verify(s) for s in sequences)
    assert sum(sum(rule.constrained_mask(s)) for s in sequences) > 100, "the rule must actually constrain positions"


@pytest.mark.parametrize("name", RULES)
def test_the_verifier_rejects_a_corrupted_sequence(name):
    rule = get_rule(name)
    corrupted_any = 0
    for sequence in rule.generate(20, np.random.default_rng(1)):
        fixed = [i for i, is_fixed in enumerate(rule.constrained_mask(sequence)) if is_fixed]
        if not fixed:
            continue
        i = fixed[0]
        allowed = rule.allowed(sequence, i)
        corrupted = list(sequence)
        corrupted[i] = next(t for t in range(rule.d_vocab) if t not in allowed)
        assert not rule.verify(corrupted), f"{name}: changing position {i} went unnoticed"
        corrupted_any += 1
    assert corrupted_any >= 10


@pytest.mark.parametrize("name", RULES)
def test_generation_is_seeded(name):
    rule = get_rule(name)
    assert rule.generate(5, np.random.default_rng(7)) == rule.generate(5, np.random.default_rng(7))


def test_plus_last_even_by_hand():
    rule = PlusLastEven()
    seq = rule.encode("3 4 5 + 4 8 + 8 + 8 1")
    assert rule.target(seq, 4) == 4 and rule.target(seq, 7) == 8 and rule.target(seq, 9) == 8
    assert rule.constrained_mask(seq) == [False, False, False, False, True, False, False, True, False, True, False]
    assert rule.verify(seq)
    no_even = rule.encode("1 + 6")
    assert rule.allowed(no_even, 2) == frozenset(rule.evens) and rule.target(no_even, 2) is None
    assert not rule.verify(rule.encode("1 + 5"))
    assert rule.decode(seq) == "3 4 5 + 4 8 + 8 + 8 1"


def test_lucky7_and_step_back_by_hand():
    lucky7, step_back = get_rule("lucky7"), get_rule("step_back")
    assert lucky7.verify([7, 3, 5, 7, 5]) and not lucky7.verify([7, 3, 5, 7, 4])
    assert step_back.target([1, 2, 3, 4, 9, 0], 5) == 2  # three positions before the 9
    assert get_rule("successor").target([9], 1) == 0
    assert get_rule("conditional_transform").target([6, 3], 2) == 4


def test_clear_errors():
    with pytest.raises(ValueError, match="unknown rule 'nope'; known rules: plus_last_even"):
        get_rule("nope")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        PlusLastEven().encode("1 2 x")
    with pytest.raises((ValueError, TypeError)):  # TypeError: the tests check annotations at run time
        PlusLastEven().generate(3, 0)
    with pytest.raises(ValueError, match="has no '\\+' token"):
        _ = get_rule("lucky7").plus
