"""Part III's glass-box models: integer-sequence rules, the models that learn them, and how well they do.

    base          `Rule`: what a position may hold, the generator and the verifier every rule shares
    definitions   the rules of chapters 6 and 7 (`PlusLastEven`, `Lucky7`, …) and `RULES`, every rule the book trains
    parity        chapter 7b's seven rules about parity (`ParityRule` and its subclasses)
    gallery       each rule paired with its model (`Setup`, `GALLERY`) and the training recipes
    data          a rule's sequences as training data: splits and windows
    accuracy      teacher-forced predictions scored at the positions the rule fixes, by group
    training      `train_rule` and the `Run` every figure draws from; runs saved, loaded and cached
    cli           `python -m glassbox.rules RULE --out figures/`: train, then write every figure of chapter 6

The names chapters use are importable from here (`from glassbox import rules; rules.train_rule(...)`); the command
line (which draws, and so imports `glassbox.plots`) is not imported with the package.
"""

import importlib

_WHERE = {  # each public name and the module that defines it
    "RuleAccuracy": "glassbox.rules.accuracy",
    "RuleTargets": "glassbox.rules.accuracy",
    "next_token_logits": "glassbox.rules.accuracy",
    "rule_accuracy": "glassbox.rules.accuracy",
    "rule_targets": "glassbox.rules.accuracy",
    "RuleData": "glassbox.rules.data",
    "all_windows": "glassbox.rules.data",
    "make_data": "glassbox.rules.data",
    "padded": "glassbox.rules.data",
    "window_loss": "glassbox.rules.data",
    "window_sampler": "glassbox.rules.data",
    "RULES": "glassbox.rules.definitions",
    "ConditionalTransform": "glassbox.rules.definitions",
    "CopyModulo": "glassbox.rules.definitions",
    "EvenAbsDiff": "glassbox.rules.definitions",
    "EvenGreaterThan10": "glassbox.rules.definitions",
    "EvenRepeatLastOdd": "glassbox.rules.definitions",
    "EvenToOdd": "glassbox.rules.definitions",
    "LookupPermutation": "glassbox.rules.definitions",
    "Lucky7": "glassbox.rules.definitions",
    "OddEvenIndex": "glassbox.rules.definitions",
    "ParityBased": "glassbox.rules.definitions",
    "PlusLastEven": "glassbox.rules.definitions",
    "PlusMaxOfTwo": "glassbox.rules.definitions",
    "PlusMeansEven": "glassbox.rules.definitions",
    "Rule": "glassbox.rules.definitions",
    "StepBack": "glassbox.rules.definitions",
    "Successor": "glassbox.rules.definitions",
    "TwoTokenParity": "glassbox.rules.definitions",
    "get_rule": "glassbox.rules.definitions",
    "FAST_RECIPE": "glassbox.rules.gallery",
    "GALLERY": "glassbox.rules.gallery",
    "GALLERY_RECIPE": "glassbox.rules.gallery",
    "MORE_GALLERY": "glassbox.rules.gallery",
    "MORE_RECIPE": "glassbox.rules.gallery",
    "SEED_RECIPE": "glassbox.rules.gallery",
    "SETUPS": "glassbox.rules.gallery",
    "Recipe": "glassbox.rules.gallery",
    "Setup": "glassbox.rules.gallery",
    "get_setup": "glassbox.rules.gallery",
    "pytorch_default_init": "glassbox.rules.gallery",
    "Run": "glassbox.rules.training",
    "cached_run": "glassbox.rules.training",
    "demo_windows": "glassbox.rules.training",
    "generations": "glassbox.rules.training",
    "load_run": "glassbox.rules.training",
    "run_folder": "glassbox.rules.training",
    "save_run": "glassbox.rules.training",
    "train_rule": "glassbox.rules.training",
    "Attempt": "glassbox.rules.retry",
    "learned_run": "glassbox.rules.retry",
}


def __getattr__(name: str) -> object:
    """Import each name on first use, so that `python -m glassbox.rules --help` (and any error in its arguments)
    answers without importing torch and the plotting stack."""
    if name not in _WHERE:
        raise AttributeError(f"module 'glassbox.rules' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "RULES",
    "ConditionalTransform",
    "CopyModulo",
    "EvenAbsDiff",
    "EvenGreaterThan10",
    "EvenRepeatLastOdd",
    "EvenToOdd",
    "LookupPermutation",
    "Lucky7",
    "OddEvenIndex",
    "ParityBased",
    "PlusLastEven",
    "PlusMaxOfTwo",
    "PlusMeansEven",
    "Rule",
    "StepBack",
    "Successor",
    "TwoTokenParity",
    "get_rule",
    "FAST_RECIPE",
    "GALLERY",
    "GALLERY_RECIPE",
    "MORE_GALLERY",
    "MORE_RECIPE",
    "SEED_RECIPE",
    "SETUPS",
    "Recipe",
    "Setup",
    "get_setup",
    "pytorch_default_init",
    "RuleData",
    "all_windows",
    "make_data",
    "padded",
    "window_loss",
    "window_sampler",
    "RuleAccuracy",
    "RuleTargets",
    "next_token_logits",
    "rule_accuracy",
    "rule_targets",
    "Run",
    "cached_run",
    "run_folder",
    "demo_windows",
    "generations",
    "load_run",
    "save_run",
    "train_rule",
    "Attempt",
    "learned_run",
]
