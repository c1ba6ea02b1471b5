"""Colab notebooks mark the numbers they quote from the site's run where a reader's own run may print others."""

from __future__ import annotations

from glassbox_build.myst import SITE_MARK, may_vary, myst_to_markdown

NONE = (frozenset(), frozenset())


def test_measured_names_follow_the_robustness_run():
    measured = (frozenset({"accuracy", "n_errors"}), frozenset({"loss_floor"}))
    assert may_vary("n_errors", "50", measured), "a count that moved across kernels and seeds is marked"
    assert not may_vary("loss_floor", "0.693", measured), "a fraction that stayed put is not"


def test_unmeasured_names_fractions_vary_whole_numbers_do_not():
    assert may_vary("new_share", "0.974", NONE)
    assert not may_vary("corpus_size", "116172", NONE)
    assert not may_vary("label", "plus_last_even", NONE)


def test_the_prose_gets_the_mark_only_in_chapters_that_train():
    text = "accuracy {glue:text}`acc:.1f` % on {glue:text}`n:,d` cases"
    glued = {"acc": "99.963", "n": "29721"}
    marked = myst_to_markdown(text, glued, {}, mark_numbers=True)
    assert marked == f"accuracy 100.0{SITE_MARK} % on 29,721 cases"
    assert SITE_MARK not in myst_to_markdown(text, glued, {}, mark_numbers=False)


def test_a_robustness_run_adds_to_what_earlier_runs_saw_move(tmp_path, monkeypatch):
    """A run of a few variants sees fewer numbers move than all runs together: what moved once stays marked, and a
    name the chapter no longer glues is dropped."""
    import importlib.util
    import json
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("robustness", Path(__file__).with_name("robustness.py"))
    robustness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(robustness)
    monkeypatch.setattr(robustness, "REPO_ROOT", tmp_path)
    path = tmp_path / robustness.VARYING_NUMBERS
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"ch06": {"moved": ["errors", "gone"], "steady": ["n_ctx"]}}))
    robustness.record_varying({"ch06": {"errors": {"range": 0.0}, "n_ctx": {"range": 0.0}, "margin": {"range": 2.5}}})
    assert json.loads(path.read_text()) == {"ch06": {"moved": ["errors", "margin"], "steady": ["n_ctx"]}}
