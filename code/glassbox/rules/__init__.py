"""Part III's glass-box models: integer-sequence rules, the models that learn them, and how well they do.

    definitions   the rules: what each position may hold, generators and verifiers (`PlusLastEven`, `Lucky7`, …)
    gallery       each rule paired with its model (`Setup`, `GALLERY`) and the training recipes
    data          a rule's sequences as training data: splits and windows
    accuracy      teacher-forced predictions scored at the positions the rule fixes, by group
    training      `train_rule` and the `Run` every figure draws from; runs saved, loaded and cached
    cli           `python -m glassbox.rules RULE --out figures/`: train, then write every figure of chapter 6

The names chapters use are importable from here (`from glassbox import rules; rules.train_rule(...)`); the command
line (which draws, and so imports `glassbox.plots`) is not imported with the package.
"""

from glassbox.rules.accuracy import RuleAccuracy, RuleTargets, next_token_logits, rule_accuracy, rule_targets
from glassbox.rules.data import RuleData, all_windows, make_data, padded, window_loss, window_sampler
from glassbox.rules.definitions import (
    RULES,
    ConditionalTransform,
    CopyModulo,
    EvenAbsDiff,
    EvenGreaterThan10,
    EvenRepeatLastOdd,
    EvenToOdd,
    LookupPermutation,
    Lucky7,
    OddEvenIndex,
    ParityBased,
    PlusLastEven,
    PlusMaxOfTwo,
    PlusMeansEven,
    Rule,
    StepBack,
    Successor,
    TwoTokenParity,
    get_rule,
)
from glassbox.rules.gallery import (
    FAST_RECIPE,
    GALLERY,
    GALLERY_RECIPE,
    MORE_GALLERY,
    MORE_RECIPE,
    SEED_RECIPE,
    SETUPS,
    Recipe,
    Setup,
    get_setup,
    pytorch_default_init,
)
from glassbox.rules.training import (
    Run,
    cached_run,
    demo_windows,
    generations,
    load_run,
    run_folder,
    save_run,
    train_rule,
)

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
]
