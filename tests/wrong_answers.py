"""A catalogue of wrong answers to every exercise, written as a learner might: each wraps the reference solution
and breaks one thing (the shape, the dtype, a NaN, the device, a hook that never fires, a seed that is ignored…).

`tests/test_wrong_answers.py` runs every one through both paths — `check(...)` in a plain Python process, as in a
notebook, and `pytest tests/exercises --impl ...` — and asserts that each fails with exactly one line naming the
reason, the same line in both paths. Run as a script it is the check() path:

    python tests/wrong_answers.py        # JSON: for every wrong answer, the lines check() printed
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)] if str(ROOT) not in sys.path else []

from glassbox.checking.checks import EXERCISES  # noqa: E402
from wrong_answers_generation import EXPECTED as GENERATION_EXPECTED  # noqa: E402
from wrong_answers_generation import SPECIAL as GENERATION_SPECIAL  # noqa: E402
from wrong_answers_generation import learner_mistakes  # noqa: E402

TIME_LIMIT = 2.0  # seconds: every answer here that does not hang runs in milliseconds (1 s was hit under load)
HANGS = {  # one of each kind of answer: tensor functions, classes, an int, a bool, lists
    "scaled_dot_product_attention",
    "sinusoidal_positions",
    "Attention",
    "Block",
    "count_parameters",
    "temperature_probs",
    "lucky7_verify",
    "lucky7_generate",
    "recovery_ratio",
    "cosine_to_final",
}

# What the one line must say, by kind of mistake (a regular expression searched in the FAIL line).
VALUES = (
    r"values differ|expected .+, got|must|should|sum to 1|upper triangle|may attend|position 0|top-scoring|"
    r"lie between|sees other values|patching|breaks|appears more than once|different lengths|never appears|seed"
)
EXPECTED = {
    "wrong shape": r"wrong shape",
    "wrong dtype": r"wrong dtype",
    "NaN": r"NaN",
    "inf": r"\binf\b",
    "returns None": r"returned None",
    "raises": r"raised RuntimeError: mat1 and mat2",
    "in place": r"modified in place",
    "numpy array": r"numpy\.ndarray",
    "list": r"got (list|float|int)\b",
    "wrong device": r"device meta",
    "off by a little": VALUES,
    "off by a lot": VALUES,
    "batch of 1 only": VALUES + "|wrong shape",
    "constant": VALUES,
    "hangs": r"still running after 2 s: an infinite loop\?",
    "unimported module": r"NameError: name 'np' is not defined",
}


def _name(fn: Any, name: str) -> Any:
    fn.__name__ = fn.__qualname__ = name
    return fn


def _tensors(args) -> list[torch.Tensor]:
    return [a for a in args if isinstance(a, torch.Tensor)]


def _poke(out: torch.Tensor, value: float) -> torch.Tensor:
    out = out.clone()
    out.reshape(-1)[out.numel() // 2] = value
    return out


def _unimported(ref: Callable[..., Any]) -> Callable[..., Any]:
    namespace = {"ref": ref}
    exec("def answer(*args):\n    return ref(*args) + np.zeros(1)\n", namespace)  # np was never imported
    return namespace["answer"]


def _hang(*args):
    while True:
        pass


def _raise(*args):
    raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (10x16 and 8x16)")


def tensor_function_answers(name: str, ref: Callable[..., Any], out_kind: str) -> dict[str, Callable[..., Any]]:
    """Wrong answers to an exercise whose answer is a tensor (`out_kind`: "float", "bool", "scalar" or "int").

    An integer answer (token ids, positions) cannot hold NaN or inf: its wrong values are off by one, doubled, a
    constant, or the right numbers as floats."""
    answers: dict[str, Callable[..., Any]] = {
        "wrong shape": lambda *a: ref(*a).unsqueeze(0),
        "wrong dtype": lambda *a: ref(*a).double() if out_kind != "bool" else ref(*a).long(),
        "returns None": lambda *a: None,
        "raises": _raise,
        "numpy array": lambda *a: ref(*a).numpy(),
        "list": lambda *a: ref(*a).tolist(),
        "wrong device": lambda *a: ref(*a).to("meta"),
        "unimported module": _unimported(ref),
    }
    if out_kind == "int":
        answers |= {
            "wrong dtype": lambda *a: ref(*a).float(),  # token ids as floats: torch.tensor of a float list
            "off by one": lambda *a: ref(*a) + 1,
            "off by a lot": lambda *a: ref(*a) * 2 + 1,
            "constant": lambda *a: torch.zeros_like(ref(*a)),
        }
    elif out_kind != "bool":
        answers |= {
            "NaN": lambda *a: _poke(ref(*a), float("nan")),
            "inf": lambda *a: _poke(ref(*a), float("inf")),
            "off by a little": lambda *a: ref(*a) * (1 + 1e-3) + 1e-3,
            "off by a lot": lambda *a: ref(*a) * 2 + 1,
            "constant": lambda *a: torch.full_like(ref(*a), 0.5),
        }
    else:
        answers["constant"] = lambda *a: torch.ones_like(ref(*a))
    if _takes_tensors(name):

        def in_place(*a):
            out = ref(*a)
            first = _tensors(a)[0]
            first.logical_not_() if first.dtype == torch.bool else first.mul_(2).add_(1)  # noqa: B018
            return out

        answers["in place"] = in_place
    if out_kind == "float" and _batched(name):

        def batch_of_one(*a):
            first, *rest = a
            return ref(
                first[:1], *[r[:1] if isinstance(r, torch.Tensor) and r.shape == first.shape else r for r in rest]
            ).expand_as(ref(*a))

        answers["batch of 1 only"] = batch_of_one
    if name in HANGS:
        answers["hangs"] = _hang
    return {kind: _name(fn, name) for kind, fn in answers.items()}


def _takes_tensors(name: str) -> bool:
    return name not in ("sinusoidal_positions", "causal_mask", "count_parameters", "lucky7_verify", "lucky7_generate")


def _batched(name: str) -> bool:  # first argument has a batch dimension that the answer keeps
    return name in (
        "scaled_dot_product_attention",
        "masked_attention",
        "gelu",
        "gelu_tanh",
        "layer_norm",
        "temperature_probs",
        "zero_ablate_head",
        "patch_position",
        "recovery_ratio",
    )


def module_answers(name: str, ref: type) -> dict[str, type]:
    """Wrong answers to a class exercise: subclasses of the reference that break one thing."""

    def subclass(forward=None, **methods) -> type:
        body = dict(methods)
        if forward is not None:
            body["forward"] = forward
        return type(name, (ref,), body)

    def wrap(transform):
        def forward(self, x):
            return transform(ref.forward(self, x), x)

        return subclass(forward)

    def in_place(self, x):
        out = ref.forward(self, x)
        x.mul_(2) if x.is_floating_point() else x.add_(1)
        return out

    def batch_of_one(self, x):
        full = ref.forward(self, x)
        return ref.forward(self, x[:1]).expand_as(full)

    answers = {
        "wrong shape": wrap(lambda out, x: out.unsqueeze(0)),
        "wrong dtype": wrap(lambda out, x: out.double()),
        "NaN": wrap(lambda out, x: _poke(out, float("nan"))),
        "inf": wrap(lambda out, x: _poke(out, float("inf"))),
        "returns None": wrap(lambda out, x: None),
        "raises": subclass(lambda self, x: _raise()),
        "in place": subclass(in_place),
        "numpy array": wrap(lambda out, x: out.detach().numpy()),
        "list": wrap(lambda out, x: out.tolist()),
        "wrong device": wrap(lambda out, x: out.to("meta")),
        "off by a little": wrap(lambda out, x: out * (1 + 1e-3) + 1e-3),
        "off by a lot": wrap(lambda out, x: out * 2 + 1),
        **(
            {} if name == "PosEmbed" else {"batch of 1 only": subclass(batch_of_one)}
        ),  # positions: the same for every batch
        "constant": wrap(lambda out, x: torch.zeros_like(out)),
        "unimported module": subclass(_unimported(ref.forward)),
    }
    if name in HANGS:
        answers["hangs"] = subclass(lambda self, x: _hang())
    answers |= CH03_SPECIFIC.get(name, lambda ref: {})(ref)
    return answers


# Chapter 3: what an output comparison alone would let through.
def _layer_norm_specific(ref: type) -> dict[str, type]:
    def no_hooks(self, x):
        return F.layer_norm(x, self.w.shape, self.w, self.b, self.eps)

    def hooks_unused(self, x):
        centred = x - x.mean(-1, keepdim=True)
        scale = (centred.pow(2).mean(-1, keepdim=True) + self.eps).sqrt()
        self.hook_scale(scale)
        self.hook_normalized(centred / scale)
        return centred / scale * self.w + self.b

    def eps_fixed(self, x):
        centred = x - x.mean(-1, keepdim=True)
        scale = self.hook_scale((centred.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt())
        return self.hook_normalized(centred / scale) * self.w + self.b

    return {
        "hooks never fire": type("LayerNorm", (ref,), {"forward": no_hooks}),
        "hook values unused": type("LayerNorm", (ref,), {"forward": hooks_unused}),
        "eps hard-coded to 1e-5": type("LayerNorm", (ref,), {"forward": eps_fixed}),
    }


def _attention_inline(self, x, use_hooks=True, biases=True, diagonal=False):
    hook = (lambda point, value: point(value)) if use_hooks else (lambda point, value: value)
    b = {n: getattr(self, n) if biases else torch.zeros_like(getattr(self, n)) for n in ("b_Q", "b_K", "b_V", "b_O")}
    q = hook(self.hook_q, torch.einsum("bpm,hmd->bphd", x, self.W_Q) + b["b_Q"])
    k = hook(self.hook_k, torch.einsum("bpm,hmd->bphd", x, self.W_K) + b["b_K"])
    v = hook(self.hook_v, torch.einsum("bpm,hmd->bphd", x, self.W_V) + b["b_V"])
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(q.shape[-1])
    n = x.shape[1]
    scores = hook(
        self.hook_attn_scores,
        scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(0 if diagonal else 1), float("-inf")),
    )
    pattern = hook(self.hook_pattern, scores.softmax(-1))
    z = hook(self.hook_z, torch.einsum("bhqk,bkhd->bqhd", pattern, v))
    return torch.einsum("bqhd,hdm->bqm", z, self.W_O) + b["b_O"]


def _attention_specific(ref: type) -> dict[str, type]:
    def fused(self, x):
        q, k, v = (
            torch.einsum("bpm,hmd->bhpd", x, W) + b[:, None]
            for W, b in ((self.W_Q, self.b_Q), (self.W_K, self.b_K), (self.W_V, self.b_V))
        )
        z = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return torch.einsum("bhqd,hdm->bqm", z, self.W_O) + self.b_O

    def steps_raise(self, *args):
        raise NotImplementedError()

    return {
        "hooks never fire (fused attention)": type("Attention", (ref,), {"forward": fused}),
        "step methods left raising": type(
            "Attention",
            (ref,),
            {
                "forward": _attention_inline,
                "project": steps_raise,
                "attention_scores": steps_raise,
                "apply_causal_mask": steps_raise,
            },
        ),
        "biases ignored": type(
            "Attention", (ref,), {"forward": lambda self, x: _attention_inline(self, x, biases=False)}
        ),
        "diagonal masked": type(
            "Attention", (ref,), {"forward": lambda self, x: _attention_inline(self, x, diagonal=True)}
        ),
        "apply_causal_mask fills -1e9": type(
            "Attention",
            (ref,),
            {
                "apply_causal_mask": lambda self, s: s.masked_fill(
                    torch.ones(s.shape[-2:], dtype=torch.bool).triu(1), -1e9
                )
            },
        ),
    }


def _mlp_specific(ref: type) -> dict[str, type]:
    def no_hooks(self, x):
        return self.act_fn(x @ self.W_in + self.b_in) @ self.W_out + self.b_out

    def always_gelu_new(self, x):
        return (
            self.hook_post(F.gelu(self.hook_pre(x @ self.W_in + self.b_in), approximate="tanh")) @ self.W_out
            + self.b_out
        )

    def no_biases(self, x):
        return self.hook_post(self.act_fn(self.hook_pre(x @ self.W_in))) @ self.W_out

    return {
        "hooks never fire": type("MLP", (ref,), {"forward": no_hooks}),
        "act_fn ignored": type("MLP", (ref,), {"forward": always_gelu_new}),
        "biases ignored": type("MLP", (ref,), {"forward": no_biases}),
    }


def _block_specific(ref: type) -> dict[str, type]:
    def no_hooks(self, x):
        attn_out = self.attn(self.ln1(x))
        mid = x + attn_out if self.cfg.use_residual else attn_out
        if self.cfg.attn_only:
            return mid
        mlp_out = self.mlp(self.ln2(mid))
        return mid + mlp_out if self.cfg.use_residual else mlp_out

    def always_residual(self, x):
        x = self.hook_resid_pre(x)
        mid = self.hook_resid_mid(x + self.hook_attn_out(self.attn(self.ln1(x))))
        if self.cfg.attn_only:
            return self.hook_resid_post(mid)
        return self.hook_resid_post(mid + self.hook_mlp_out(self.mlp(self.ln2(mid))))

    return {
        "hooks never fire": type("Block", (ref,), {"forward": no_hooks}),
        "use_residual ignored": type("Block", (ref,), {"forward": always_residual}),
    }


def _unembed_specific(ref: type) -> dict[str, type]:
    return {"bias ignored": type("Unembed", (ref,), {"forward": lambda self, x: x @ self.W_U})}


CH03_SPECIFIC = {
    "LayerNorm": _layer_norm_specific,
    "Attention": _attention_specific,
    "MLP": _mlp_specific,
    "Block": _block_specific,
    "Unembed": _unembed_specific,
}


def _demo_transformer_specific(ref: type) -> dict[str, type]:
    """Chapter 4's assembled model: a step of the assembly left out."""

    def run(self, tokens, positions=True, hooks=True, final_ln=True, first_block_only=False):
        embed, pos = self.embed(tokens), self.pos_embed(tokens)
        residual = (self.hook_embed(embed) + self.hook_pos_embed(pos)) if hooks else embed + pos
        if not positions:
            residual = self.hook_embed(embed)
        for block in self.blocks[:1] if first_block_only else self.blocks:
            residual = block(residual)
        return self.unembed(self.ln_final(residual) if final_ln else residual)

    def variant(**kwargs):
        return type("DemoTransformer", (ref,), {"forward": lambda self, tokens: run(self, tokens, **kwargs)})

    return {
        "positions forgotten": variant(positions=False),
        "final LayerNorm forgotten": variant(final_ln=False),
        "only the first block": variant(first_block_only=True),
        "embedding hooks skipped": variant(hooks=False),
    }


CH03_SPECIFIC["DemoTransformer"] = _demo_transformer_specific  # chapter 4's class exercise, the same way
EXPECTED |= {
    "positions forgotten": r"position embedding",
    "final LayerNorm forgotten": r"final LayerNorm",
    "only the first block": r"run every block",
    "embedding hooks skipped": r"hook_embed",
}
EXPECTED |= {
    "hooks never fire": r"never fires",
    "hooks never fire (fused attention)": r"never fires",
    "hook values unused": r"patching `\S+` does not change the output",
    "eps hard-coded to 1e-5": r"eps",
    "step methods left raising": r"Attention\.project still raises NotImplementedError",
    "biases ignored": r"bias",
    "bias ignored": r"bias",
    "diagonal masked": r"NaN .*its own position",
    "apply_causal_mask fills -1e9": r"hook_attn_scores.*expected -inf, got -1e\+09",
    "act_fn ignored": r"cfg\.act_fn",
    "use_residual ignored": r"use_residual",
}


def count_parameters_answers(ref) -> dict[str, Callable[..., Any]]:
    def attn_only_ignored(cfg):
        return ref(cfg.with_(attn_only=False)) if cfg.attn_only else ref(cfg)

    return {
        "returns None": lambda cfg: None,
        "raises": _raise,
        "hangs": _hang,
        "off by a little": lambda cfg: ref(cfg) + 1,
        "off by a lot": lambda cfg: 2 * ref(cfg),
        "constant": lambda cfg: 124_000,
        "float": lambda cfg: float(ref(cfg)),
        "tensor": lambda cfg: torch.tensor(ref(cfg)),
        "numpy integer array": lambda cfg: np.array([ref(cfg)]),
        "attn_only ignored": attn_only_ignored,
        "unimported module": _unimported(ref),
    }


def lucky7_verify_answers(ref) -> dict[str, Callable[..., Any]]:
    def appends(sequence):
        result = ref(sequence)
        sequence.append(0)
        return result

    def start_not_free(sequence):
        return all(
            sequence[i] == (sequence[i - 2] if i >= 2 else -1) for i in range(1, len(sequence)) if sequence[i - 1] == 7
        )

    return {
        "returns None": lambda s: None,
        "raises": _raise,
        "hangs": _hang,
        "in place": appends,
        "constant": lambda s: True,
        "int instead of bool": lambda s: int(ref(s)),
        "tensor instead of bool": lambda s: torch.tensor(ref(s)),
        "range not checked": lambda s: ref([t % 11 for t in s]),
        "7 at the start not free": start_not_free,
        "unimported module": _unimported(ref),
    }


def lucky7_generate_answers(ref) -> dict[str, Callable[..., Any]]:
    def one_sequence(n, seed):
        return [list(ref(1, 0)[0]) for _ in range(n)]

    def length_20(n, seed):
        return [s[:20] for s in ref(n, seed)]  # a prefix of a lucky7 sequence obeys the rule

    other_seeds = iter(range(1000, 1 << 30))  # what a global generator gives: other numbers on every call

    def global_rng(n, seed):
        # not np.random itself: checks restore the global state after every call, so each call would draw the same
        return ref(n, next(other_seeds))

    def fixed_seed(n, seed):
        return ref(n, 0)

    def no_sevens(n, seed):
        rng = np.random.default_rng(seed)
        return [[int(t) for t in rng.integers(0, 7, int(rng.integers(20, 51)))] for _ in range(n)]

    def breaks_rule(n, seed):
        out = ref(n, seed)
        out[0] = [7, 1, 2, 7, 5] + out[0][5:]
        return out

    return {
        "returns None": lambda n, s: None,
        "raises": _raise,
        "hangs": _hang,
        "numpy array": lambda n, s: np.array([np.array(x) for x in ref(n, s)], dtype=object),
        "list of numpy arrays": lambda n, s: [np.array(x) for x in ref(n, s)],
        "float tokens": lambda n, s: [[float(t) for t in x] for x in ref(n, s)],
        "a token beyond 10": lambda n, s: [x[:-1] + [11] for x in ref(n, s)],
        "one fewer sequence": lambda n, s: ref(n, s)[:-1],
        "breaks the rule": breaks_rule,
        "one sequence n times": one_sequence,
        "only length 20": length_20,
        "seed ignored (global rng)": global_rng,
        "seed ignored (fixed)": fixed_seed,
        "never a 7": no_sevens,
        "unimported module": _unimported(ref),
    }


def layer_norm_answers(ref) -> dict[str, Callable[..., Any]]:
    def eps_fixed(x, w, b, eps=1e-5):
        return ref(x, w, b)

    return {"eps hard-coded to 1e-5": eps_fixed}


def documented_error_answers(name: str, ref) -> dict[str, Callable[..., Any]]:
    """Answers that return where the docstring says to raise ValueError."""
    if name == "temperature_probs":

        def no_raise(logits, t):
            return torch.softmax(logits / t, -1) if t else ref(logits, t)
    elif name == "recovery_ratio":

        def no_raise(p, c, k):
            return (p - k) / (c - k) if c != k else torch.zeros_like(p)
    elif name == "prev_token_scores":

        def no_raise(p):
            return p.diagonal(-1, -2, -1).mean(-1) if p.shape[-1] > 1 else p[..., 0, 0] * 0
    else:
        return {}
    return {"documented ValueError not raised": no_raise}


EXPECTED |= {
    "float": r"expected an int, got float",
    "tensor": r"expected an int, got Tensor",
    "numpy integer array": r"expected an int, got numpy\.ndarray",
    "attn_only ignored": r"expected \d+, got \d+",
    "int instead of bool": r"a bool\), got int",
    "tensor instead of bool": r"a bool\), got Tensor",
    "range not checked": r"expected False, got True",
    "7 at the start not free": r"expected True, got False",
    "list of numpy arrays": r"sequence 0 is a numpy\.ndarray",
    "float tokens": r"holds a float",
    "a token beyond 10": r"holds 11",
    "one fewer sequence": r"expected \d+ sequences, got",
    "breaks the rule": r"breaks lucky7",
    "one sequence n times": r"appears more than once",
    "only length 20": r"different lengths",
    "seed ignored (global rng)": r"seed 5 gave different",
    "seed ignored (fixed)": r"seeds 5 and 6 gave the same",
    "never a 7": r"token 7 never appears",
    "documented ValueError not raised": r"should raise ValueError",
}
EXPECTED["numpy array"] = r"numpy\.ndarray"
EXPECTED |= GENERATION_EXPECTED

OUT_KIND = {"causal_mask": "bool", "top_activating_contexts": "int"}
EXPECTED["off by one"] = VALUES
SCALAR = {"next_token_loss", "mean_cosine_similarity", "participation_ratio", "composition_score", "second_half_loss"}
SCALAR |= {"path_patch_frozen", "probe_selectivity"}  # chapters 10, 15: a metric, a 0-d tensor


def answers_for(name: str) -> dict[str, Any]:
    """Every wrong answer to one exercise, by kind."""
    exercise = EXERCISES[name]
    ref = exercise.reference()
    if exercise.is_module:
        return module_answers(name, ref)
    special = {
        "count_parameters": count_parameters_answers,
        "lucky7_verify": lucky7_verify_answers,
        "lucky7_generate": lucky7_generate_answers,
        **GENERATION_SPECIAL,
    }
    if name in special:
        answers = special[name](ref)
    else:
        answers = tensor_function_answers(name, ref, OUT_KIND.get(name, "scalar" if name in SCALAR else "float"))
        answers |= documented_error_answers(name, ref)
        if name == "layer_norm":
            answers |= layer_norm_answers(ref)
    answers |= learner_mistakes(name, ref)
    return {kind: _name(fn, name) for kind, fn in answers.items()}


def catalogue() -> dict[str, dict[str, Any]]:
    return {name: answers_for(name) for name in EXERCISES}


def chapter_namespace(chapter: str, index: int) -> dict[str, Any]:
    """For the pytest path: the `index`-th wrong answer of each exercise of `chapter` (the reference where an
    exercise has fewer), under the exercise's name."""
    namespace = {}
    for name, exercise in EXERCISES.items():
        if exercise.module == chapter:
            answers = list(answers_for(name).values())
            if index < len(answers):
                namespace[name] = answers[index]
    return namespace


def run_check_path() -> dict[str, dict[str, Any]]:
    """Every wrong answer through check(), in this plain Python process; what it printed, and whether the global
    random state was left as it was."""
    from glassbox.checking import check

    report: dict[str, dict[str, Any]] = {}
    for name, answers in catalogue().items():
        for kind, answer in answers.items():
            before = torch.random.get_rng_state(), np.random.get_state()[1].copy()
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                try:
                    check(answer, name, time_limit=TIME_LIMIT)
                except BaseException as error:  # recorded: the test fails on it
                    print(f"CHECK ITSELF RAISED {type(error).__name__}: {error}")
            same_rng = (
                torch.equal(before[0], torch.random.get_rng_state()) and (before[1] == np.random.get_state()[1]).all()
            )
            report[f"{name}/{kind}"] = {"lines": out.getvalue().splitlines(), "rng kept": bool(same_rng)}
    return report


def write_packages(folder: Path) -> list[str]:
    """For the pytest path: packages wrong0, wrong1, … in `folder`, package N holding the N-th wrong answer of every
    exercise (the reference where an exercise has fewer). Returns their names, for `--impl wrong0,wrong1,…`."""
    depth = max(len(answers_for(name)) for name in EXERCISES)
    chapters = sorted({ex.module for ex in EXERCISES.values()})
    for index in range(depth):
        package = folder / f"wrong{index}"
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
        for chapter in chapters:
            (package / f"{chapter}.py").write_text(
                "from wrong_answers import chapter_namespace\n\n"
                f"globals().update(chapter_namespace({chapter!r}, {index}))\n"
            )
    return [f"wrong{index}" for index in range(depth)]


def pytest_reasons(junit_xml: Path) -> dict[str, str | None]:
    """The pytest path's verdict on every wrong answer: the failure message, or None where the test passed."""
    import xml.etree.ElementTree as ET

    outcomes = {case.get("name"): case.find("failure") for case in ET.parse(junit_xml).getroot().iter("testcase")}
    report: dict[str, str | None] = {}
    for name in EXERCISES:
        for index, kind in enumerate(answers_for(name)):
            failure = outcomes.get(f"test_exercise[{name}@wrong{index}]", "missing")
            report[f"{name}/{kind}"] = failure if failure in (None, "missing") else failure.get("message", "")
    return report


# Chapter 5's training loop: a schedule (floats), a step (changes a model and an optimizer), an evaluation (a float).
def _warmup_cosine_lr_answers(ref) -> dict[str, Callable[..., Any]]:
    from glassbox.checking.checks.ch05_training import LR_MISTAKES

    def unchecked(step, max_lr, warmup, total, min_lr=0.0):
        if step <= warmup:
            return max_lr * step / warmup
        return min_lr + (max_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(total - warmup, 1)))

    named = dict(
        zip(
            ("decays to 0", "warm-up from 0", "cosine over every step", "linear decay"),
            LR_MISTAKES.values(),
            strict=True,
        )
    )
    return {
        "returns None": lambda *args: None,
        "raises": _raise,
        "tensor instead of float": lambda *args: torch.tensor(ref(*args)),
        "no ValueError for a bad step": unchecked,
        **named,
        "unimported module": _unimported(ref),
    }


def _train_step_answers(ref) -> dict[str, Callable[..., Any]]:
    from glassbox.checking.checks.ch05_training import STEP_MISTAKES, clip_after_step
    from glassbox.model import next_token_loss

    def returns_tensor(model, optimizer, batch, max_grad_norm):
        optimizer.zero_grad()
        loss = next_token_loss(model(batch), batch)
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        return loss

    def loss_after_update(model, optimizer, batch, max_grad_norm):
        ref(model, optimizer, batch, max_grad_norm)
        with torch.no_grad():
            return next_token_loss(model(batch), batch).item()

    named = dict(zip(("no zero_grad", "no clipping"), STEP_MISTAKES.values(), strict=True))
    named["clipped after the step"] = clip_after_step
    return {
        "returns None": lambda *args: None,
        "raises": _raise,
        "loss as a tensor": returns_tensor,
        "loss after the update": loss_after_update,
        **named,
        "unimported module": _unimported(ref),
    }


def _evaluate_loss_answers(ref) -> dict[str, Callable[..., Any]]:
    from glassbox.checking.checks.ch05_training import EVAL_MISTAKES
    from glassbox.model import next_token_loss

    def leaves_eval_mode(model, windows, batch_size=256):
        if len(windows) == 0:
            raise ValueError("no windows")
        model.eval()
        with torch.no_grad():
            return sum(next_token_loss(model(c), c).item() * len(c) for c in windows.split(batch_size)) / len(windows)

    named = dict(zip(("mean of batch means", "first batch only"), EVAL_MISTAKES.values(), strict=True))
    return {
        "returns None": lambda *args: None,
        "raises": _raise,
        "tensor instead of float": lambda *args: torch.tensor(ref(*args)),
        "model left in eval mode": leaves_eval_mode,
        **named,
        "unimported module": _unimported(ref),
    }


GENERATION_SPECIAL.update(  # answers_for reads this mapping of special catalogues at each call: chapter 5's join it
    warmup_cosine_lr=_warmup_cosine_lr_answers, train_step=_train_step_answers, evaluate_loss=_evaluate_loss_answers
)
EXPECTED |= {
    "tensor instead of float": r"expected a number",
    "no ValueError for a bad step": r"should raise ValueError",
    "decays to 0": r"ends at min_lr",
    "warm-up from 0": r"starts at max_lr / warmup_steps",
    "cosine over every step": r"progress = ",
    "linear decay": r"half a cosine",
    "loss as a tensor": r"expected a number|as a float",
    "loss after the update": r"computed before the update",
    "no zero_grad": r"zero_grad",
    "no clipping": r"clip_grad_norm_",
    "clipped after the step": r"before optimizer\.step",  # the weights look unclipped: clip_grad_norm_ named
    "model left in eval mode": r"left it in the other",
    "mean of batch means": r"weigh each batch",
    "first batch only": r"not only the first",
}


if __name__ == "__main__":
    print(json.dumps(run_check_path()))
