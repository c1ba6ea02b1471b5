"""`rules.learned_run`: chapter 6's model is the first run that clears the bar on its validation sequences (never
its test sequences), and the page can say how many runs that took (one start in nine stalled at 89 % on one CPU
kernel set). The training runs are faked here: what is tested is which run is kept and what is reported."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from glassbox.rules import get_rule, retry


@pytest.fixture
def runs(monkeypatch):
    """Fake `cached_run` and `rule_accuracy`: run `seed` scores `accuracies[seed]` on its validation sequences."""
    accuracies: dict[int, float] = {}
    trained: list[int] = []

    def fake_run(name, recipe, *, seed, setup=None):
        trained.append(seed)
        run = object.__new__(retry.Run)  # a Run's type, with only what learned_run reads
        run.name, run.model, run.seconds = name, None, float(seed)
        run.data = SimpleNamespace(val=[[seed]], rule=get_rule("plus_last_even"))  # [[seed]]: its validation set
        return run

    def fake_accuracy(model, sequences, rule):
        (seed,) = sequences[0]
        return SimpleNamespace(learnable=accuracies[seed], overall=0.5)

    monkeypatch.setattr(retry, "cached_run", fake_run)
    monkeypatch.setattr(retry, "rule_accuracy", fake_accuracy)
    return accuracies, trained


def test_it_keeps_the_first_run_that_clears_the_bar_and_reports_every_attempt(runs):
    accuracies, trained = runs
    accuracies.update({0: 0.89, 1: 0.9985, 2: 1.0, 3: 1.0})
    run, tried = retry.learned_run("plus_last_even")
    assert run.seconds == 2 and trained == [0, 1, 2], "stops at the first run at or above 99.9 %"
    assert tried == [retry.Attempt(0, 0.89), retry.Attempt(1, 0.9985), retry.Attempt(2, 1.0)]


def test_a_run_that_clears_the_bar_at_once_is_the_only_one(runs):
    accuracies, trained = runs
    accuracies.update({0: 0.999, 1: 1.0})
    run, tried = retry.learned_run("plus_last_even")
    assert run.seconds == 0 and trained == [0] and len(tried) == 1, "exactly at the bar counts as cleared"


def test_it_judges_the_learnable_cases_not_the_overall_score(runs):
    accuracies, _ = runs
    accuracies.update({0: 1.0})  # overall 0.5: the unlearnable cases must not count against the run
    run, _ = retry.learned_run("plus_last_even")
    assert run.seconds == 0


def test_no_run_reaching_the_bar_is_one_line_naming_each_attempt(runs):
    accuracies, _ = runs
    accuracies.update({0: 0.5, 1: 0.6})
    with pytest.raises(ValueError, match=r"no run of 2 reached 99.9%.*seed 0: 50.00%, seed 1: 60.00%") as error:
        retry.learned_run("plus_last_even", attempts=2)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("kwargs", [{"bar": 0.0}, {"bar": 1.5}, {"attempts": 0}])
def test_bad_settings_are_refused(runs, kwargs):
    with pytest.raises(ValueError, match="must be"):
        retry.learned_run("plus_last_even", **kwargs)
