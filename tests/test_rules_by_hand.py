"""Every rule of chapters 7 and 7b, tested from its own words rather than from its `allowed()`: a predicate written
here from the rule's description, a hand-made sequence that obeys it and one that breaks it. The rule's `verify` must
agree with the predicate on both, and every sequence its generator draws must satisfy the predicate (a generator draws
from `allowed()`, so a wrong `allowed()` shows up as generated sequences that break the rule as worded)."""

import numpy as np
import pytest
from glassbox.rules import RULES, get_rule


def _numbers_after_plus(s):
    """(i, token) for every position i that follows a `+`."""
    return [(i, s[i]) for i in range(1, len(s)) if s[i - 1] == "+"]


def plus_last_even(s):
    """After every `+` comes the most recent even number before it (any even number when there is none)."""
    for i, t in _numbers_after_plus(s):
        evens = [x for x in s[: i - 1] if x != "+" and int(x) % 2 == 0]
        if t == "+" or (int(t) != int(evens[-1]) if evens else int(t) % 2):
            return False
    return True


def lucky7(s):
    """After a 7 comes the token that came just before the 7 (a 7 at the start copies nothing)."""
    return all(s[i] == s[i - 2] for i in range(2, len(s)) if s[i - 1] == "7")


def step_back(s):
    """After a 9 comes the value three positions before the 9 (for a 9 at position 3 or later)."""
    return all(s[i] == s[i - 4] for i in range(4, len(s)) if s[i - 1] == "9")


def plus_max_of_two(s):
    """After `+` comes the larger of the two numbers just before it; `+` only follows two numbers."""
    for i, t in enumerate(s):
        if t == "+" and (i < 2 or "+" in (s[i - 1], s[i - 2])):
            return False
    return all(t != "+" and int(t) == max(int(s[i - 2]), int(s[i - 3])) for i, t in _numbers_after_plus(s))


def plus_means_even(s):
    """After `+`, any even number."""
    return all(t != "+" and int(t) % 2 == 0 for _, t in _numbers_after_plus(s))


def copy_modulo(s):
    """Token i copies token i mod 4: the first four are free, then the sequence repeats them."""
    return all(s[i] == s[i % 4] for i in range(len(s)))


def successor(s):
    """Each token is the previous one plus one, modulo 10."""
    return all(int(s[i]) == (int(s[i - 1]) + 1) % 10 for i in range(1, len(s)))


def conditional_transform(s):
    """After an even t comes t // 2, after an odd t comes (t + 1) mod 10."""
    return all(
        int(s[i]) == (int(s[i - 1]) // 2 if int(s[i - 1]) % 2 == 0 else (int(s[i - 1]) + 1) % 10)
        for i in range(1, len(s))
    )


def lookup_permutation(s, permutation):
    """Each token is a fixed permutation of the previous one."""
    return all(int(s[i]) == permutation[int(s[i - 1])] for i in range(1, len(s)))


def odd_even_index(s):
    """Position i holds a number of i's parity."""
    return all(int(t) % 2 == i % 2 for i, t in enumerate(s))


def even_to_odd_transition(s):
    """After an even number, an odd number (after an odd one, anything)."""
    return all(int(s[i]) % 2 == 1 for i in range(1, len(s)) if int(s[i - 1]) % 2 == 0)


def even_repeat_last_odd(s):
    """After an even number, the most recent odd number before it (anything while no odd number has come)."""
    for i in range(1, len(s)):
        odds = [x for x in s[: i - 1] if int(x) % 2 == 1]
        if int(s[i - 1]) % 2 == 0 and odds and s[i] != odds[-1]:
            return False
    return True


def even_abs_diff(s):
    """After an even t that follows s, |t - s|."""
    return all(int(s[i]) == abs(int(s[i - 1]) - int(s[i - 2])) for i in range(2, len(s)) if int(s[i - 1]) % 2 == 0)


def even_greater_than_10(s):
    """After an even number, one above 10; after an odd one, one below 10."""
    return all((int(s[i]) > 10) if int(s[i - 1]) % 2 == 0 else (int(s[i]) < 10) for i in range(1, len(s)))


def parity_based(s):
    """After two numbers of the same parity, an even number; after two of different parity, an odd one."""
    return all(int(s[i]) % 2 == (0 if int(s[i - 1]) % 2 == int(s[i - 2]) % 2 else 1) for i in range(2, len(s)))


def two_token_parity(s):
    """After two of the same parity, a number below 10; after two of different parity, 10 or more."""
    return all(
        (int(s[i]) < 10) if int(s[i - 1]) % 2 == int(s[i - 2]) % 2 else (int(s[i]) >= 10) for i in range(2, len(s))
    )


# rule: (its predicate, a sequence that obeys it, one that breaks it), each small enough to check by eye
BY_HAND = {
    "plus_last_even": (plus_last_even, "1 + 6 3 4 5 + 4 8 + 8 1 + 8", "3 4 5 + 5 8 + 8"),
    "lucky7": (lucky7, "7 3 5 7 5 7 5 2", "7 3 5 7 3"),
    "step_back": (step_back, "9 1 2 3 4 9 2 9 4 0", "1 2 3 4 9 1"),
    "plus_max_of_two": (plus_max_of_two, "3 17 + 17 2 5 + 5 20 0 + 20", "3 17 + 3"),
    "plus_means_even": (plus_means_even, "3 + 4 + 20 7 + 0", "3 + 4 + 19"),
    "copy_modulo": (copy_modulo, "1 5 0 9 1 5 0 9 1 5", "1 5 0 9 1 5 9 9"),
    "successor": (successor, "7 8 9 0 1 2", "7 8 9 1"),
    "conditional_transform": (conditional_transform, "8 4 2 1 2 1 2 1", "9 1 2 1 2 2"),
    "odd_even_index": (odd_even_index, "0 1 20 19 4 3", "0 1 20 18"),
    "even_to_odd_transition": (even_to_odd_transition, "2 3 5 8 11 11 20 1", "2 3 5 8 10"),
    "even_repeat_last_odd": (even_repeat_last_odd, "2 4 3 8 3 6 3 5 10 5", "2 4 3 8 3 5 10 3"),
    "even_abs_diff": (even_abs_diff, "5 8 3 10 7 16 9", "5 8 13"),
    "even_greater_than_10": (even_greater_than_10, "2 15 3 4 20 12 11 9 1", "2 15 3 10"),
    "parity_based": (parity_based, "1 3 0 3 5 2 1 3 8", "1 3 1"),
    "two_token_parity": (two_token_parity, "1 3 4 12 6 2 1 10", "1 3 4 5"),
}


def test_every_rule_of_chapters_7_and_7b_is_tested_by_hand():
    assert set(BY_HAND) | {"lookup_permutation"} == set(RULES)


@pytest.mark.parametrize("name", BY_HAND)
def test_a_rule_accepts_what_obeys_its_words_and_rejects_what_breaks_them(name):
    rule = get_rule(name)
    predicate, obeys, breaks = BY_HAND[name]
    assert predicate(obeys.split()) and not predicate(breaks.split()), "the hand-made cases are wrong"
    assert rule.verify(rule.encode(obeys)), f"{name} rejects {obeys!r}, which obeys '{rule.description}'"
    assert not rule.verify(rule.encode(breaks)), f"{name} accepts {breaks!r}, which breaks '{rule.description}'"


@pytest.mark.parametrize("name", BY_HAND)
def test_generated_sequences_obey_the_rule_as_worded(name):
    rule = get_rule(name)
    predicate = BY_HAND[name][0]
    for sequence in rule.generate(100, np.random.default_rng(0)):
        assert rule.min_length <= len(sequence) <= rule.max_length
        assert predicate(rule.decode(sequence).split()), f"{name} generated {rule.decode(sequence)}"


def test_lookup_permutation_by_hand():
    rule = get_rule("lookup_permutation")
    permutation = rule.permutation
    assert sorted(permutation) == list(range(10)) and permutation != list(range(10))  # a permutation, not identity
    obeys = [3]
    for _ in range(12):
        obeys.append(permutation[obeys[-1]])
    breaks = obeys[:5] + [(obeys[5] + 1) % 10]
    assert rule.verify(obeys) and not rule.verify(breaks)
    for sequence in rule.generate(100, np.random.default_rng(0)):
        assert lookup_permutation(rule.decode(sequence).split(), permutation)
    assert get_rule("lookup_permutation").permutation == permutation  # fixed: part of the rule, not of a draw


def test_plus_max_of_two_refuses_a_plus_that_does_not_follow_two_numbers():
    rule = get_rule("plus_max_of_two")
    for text in ("+ 3 4", "3 + 3", "3 4 + 4 + 4"):
        assert not plus_max_of_two(text.split()) and not rule.verify(rule.encode(text)), text
