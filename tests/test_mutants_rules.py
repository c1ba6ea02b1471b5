"""Part III's rules (chapters 6, 7, 7b), pinned where mutation testing found the suite silent: the free tokens each
generator draws (the probabilities its docstring or class names, every number reachable, `+` only after two
numbers), the tokens that count as right and the window groups of accuracy on hand-made sequences at their edges,
lengths min_length … max_length inclusive, and the sentences of the errors."""

from collections import Counter

import numpy as np
import pytest
from glassbox.rules import get_rule
from glassbox.rules.definitions import LookupPermutation, Lucky7
from jaxtyping import TypeCheckError

DRAWS = 6000


def frequencies(rule, sequence, seed=0) -> Counter:
    rng = np.random.default_rng(seed)
    return Counter(rule.free_token(list(sequence), rng) for _ in range(DRAWS))


@pytest.mark.parametrize("name", ["plus_last_even", "plus_means_even", "plus_max_of_two"])
def test_free_tokens_are_plus_at_its_rate_and_every_number_otherwise(name):
    rule = get_rule(name)
    counts = frequencies(rule, [3, 5])  # two numbers: `+` may follow
    assert counts[rule.plus] / DRAWS == pytest.approx(rule.plus_probability, abs=0.025)
    assert set(counts) == {*rule.numbers, rule.plus}  # 0 … max_value, each reachable
    numbers = [counts[n] for n in rule.numbers]
    assert max(numbers) / min(numbers) < 1.6  # uniform over the numbers


def test_plus_max_of_two_draws_plus_only_after_two_numbers():
    rule = get_rule("plus_max_of_two")
    plus = rule.plus
    for sequence in ([4], [4, plus], [4, 5, plus], [4, plus, 6]):
        assert plus not in frequencies(rule, sequence), sequence
    for sequence in ([4, 5], [3, plus, 4, 5]):
        assert frequencies(rule, sequence)[plus] / DRAWS == pytest.approx(0.3, abs=0.025), sequence


def test_step_back_draws_nine_with_probability_0_4_then_uniformly():
    rule = get_rule("step_back")
    counts = frequencies(rule, [1, 2, 3])
    assert counts[9] / DRAWS == pytest.approx(0.4 + 0.6 / rule.d_vocab, abs=0.025)
    assert set(counts) == set(range(rule.d_vocab))


def test_plus_last_even_scores_the_drawn_token_only_when_no_even_number_came_first():
    rule = get_rule("plus_last_even")
    plus = rule.plus
    assert rule.scored_tokens([3, plus, 4], 2) == {4}  # no even number before the `+`: the drawn token alone
    assert rule.scored_tokens([3, 4, plus, 6], 3) == {4}  # an even number before it: what the rule says
    assert rule.scored_tokens([2, plus, 2, plus, 2], 4) == {2}
    assert rule.scored_tokens([3, 5], 1) is None  # a free position
    means_even = get_rule("plus_means_even")
    assert means_even.scored_tokens([3, means_even.plus, 4], 2) == set(range(0, 21, 2))  # any even number


def test_plus_last_even_groups_each_target_by_where_its_even_number_lies():
    rule = get_rule("plus_last_even")
    plus = rule.plus
    sequence = [4, 1, 1, plus, 4]  # the even number at 0; the `+` at 3 and the target at 4
    assert rule.accuracy_group(sequence, 4, n_ctx=4) == "inside the window"  # positions 0 … 3
    assert rule.accuracy_group(sequence, 4, n_ctx=3) == "outside the window"  # positions 1 … 3
    assert rule.accuracy_group([1, 3, plus, 4], 3, n_ctx=8) == "no even number"
    assert rule.accuracy_group([1, 4, plus, 4], 3, n_ctx=2) == "inside the window"  # the even number just before +
    assert Lucky7().accuracy_group([7, 1, 7], 2, n_ctx=2) == "constrained"
    assert Lucky7().scored_tokens([3, 7, 3], 2) == {3} and Lucky7().scored_tokens([3, 5, 3], 2) is None


def test_even_repeat_last_odd_reads_the_most_recent_odd_number_and_groups_by_window():
    rule = get_rule("even_repeat_last_odd")
    assert rule.allowed([3, 1, 2, 4], 4) == {1}  # the odd number at 1, not the one at 0
    assert rule.last_odd([3, 1, 2, 4], 4) == 1
    sequence = [5, 2, 2, 2, 5]
    assert rule.accuracy_group(sequence, 4, n_ctx=4) == "inside the window"  # sees positions 0 … 3
    assert rule.accuracy_group(sequence, 4, n_ctx=3) == "outside the window"  # sees positions 1 … 3
    assert rule.accuracy_group([1, 3, 2, 3], 3, n_ctx=2) == "inside the window"  # the odd number just before the even


def test_targets_are_integer_token_ids():
    rule = get_rule("conditional_transform")
    assert rule.target([4], 1) == 2 and type(rule.target([4], 1)) is int  # 4 // 2, not 2.0
    assert rule.target([7], 1) == 8 and rule.target([9], 1) == 0


def test_lookup_permutation_is_seeded_with_zero_by_default():
    assert LookupPermutation().permutation == LookupPermutation(seed=0).permutation
    assert sorted(LookupPermutation().permutation) == list(range(10))
    assert LookupPermutation(seed=1).permutation != LookupPermutation(seed=0).permutation


def test_encode_takes_a_string_or_a_list_and_names_unknown_tokens():
    rule = get_rule("plus_last_even")
    assert rule.encode("4 9 + 4") == rule.encode(["4", 9, "+", 4]) == [4, 9, 11, 4]
    with pytest.raises(ValueError) as error:
        get_rule("step_back").encode("4 x")
    assert str(error.value) == "tokens ['x'] are not in the vocabulary of 'step_back': 0 1 2 3 4 5 6 7 8 9 10"


def test_verify_refuses_tokens_outside_the_vocabulary():
    rule = Lucky7()
    assert rule.verify([1, 2, 10])
    assert not rule.verify([1, 2, 11])  # 11 = d_vocab: no such token
    assert not rule.verify([1, -1, 2])


def test_generate_draws_every_length_from_min_to_max_and_refuses_bad_arguments():
    class Short(Lucky7):
        min_length, max_length = 3, 5

    lengths = {len(s) for s in Short().generate(200, np.random.default_rng(0))}
    assert lengths == {3, 4, 5}
    assert len(Short().generate(1, np.random.default_rng(0))) == 1
    for bad in (0, -2):
        with pytest.raises(ValueError) as error:
            Short().generate(bad, np.random.default_rng(0))
        assert str(error.value) == f"n_sequences must be positive, got {bad}"
    # the method's own check; jaxtyping's annotation check refuses it first where the tests turn it on
    rng_message = r"^rng must be a numpy\.random\.Generator \(np\.random\.default_rng\(seed\)\), got int$|Type-check"
    with pytest.raises((ValueError, TypeCheckError), match=rng_message):
        Short().generate(2, 3)


def test_an_unknown_rule_lists_the_known_ones():
    with pytest.raises(ValueError) as error:
        get_rule("nope")
    assert str(error.value).startswith("unknown rule 'nope'; known rules: plus_last_even, lucky7, step_back, ")
