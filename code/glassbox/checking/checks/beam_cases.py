"""The cases and named mistakes of chapter 5b's beam-search exercises, `beam_search`, `banned_tokens` and
`beam_search_sequences` (a module of their own to keep `ch05b_sampling` short; its name does not start with
"ch", so `glassbox.checking.checks` does not take it for a chapter)."""

import torch
import torch.nn.functional as F

from glassbox import sampling
from glassbox.checking.judge import Case
from glassbox.config import TransformerConfig
from glassbox.model import Transformer


def _beam_model(seed: int) -> Transformer:
    cfg = TransformerConfig(d_model=16, n_layers=1, n_heads=2, d_vocab=8, n_ctx=16, init_range=0.6, seed=seed)
    return Transformer(cfg).eval()


def _beam_cases() -> list[Case]:
    prompt = torch.tensor([1, 2, 3])
    return [
        Case("3 beams, 6 new tokens (beam search beats greedy here)", (_beam_model(40), prompt, 3, 6)),
        Case("4 beams, 8 new tokens", (_beam_model(9), prompt, 4, 8)),
        Case("1 beam (greedy decoding)", (_beam_model(2), prompt, 1, 5)),
        Case("5 beams, 7 new tokens from a one-token prompt", (_beam_model(4), torch.tensor([0]), 5, 7)),
        Case("0 beams (a ValueError)", (_beam_model(1), prompt, 0, 3)),
    ]


def _greedy(model, prompt, n_beams, n_new):
    if n_beams < 1:
        raise ValueError("n_beams")
    return sampling.generate(model, prompt, n_new)[0]


def _last_step_only(model, prompt, n_beams, n_new):
    beams = prompt[None]
    for _ in range(n_new):
        logprobs = model(beams)[:, -1].log_softmax(-1)
        _, index = logprobs.flatten().topk(min(n_beams, logprobs.numel()))
        beams = torch.cat([beams[index // logprobs.shape[-1]], (index % logprobs.shape[-1])[:, None]], -1)
    return beams[0]


def _each_beam_its_best(model, prompt, n_beams, n_new):
    beams, scores = prompt[None], torch.zeros(1)
    for _ in range(n_new):
        logprobs = model(beams)[:, -1].log_softmax(-1)
        best, token = logprobs.max(-1)
        if len(beams) < n_beams:  # only the first step branches
            scores, token = logprobs[0].topk(n_beams)
            beams = torch.cat([beams.expand(n_beams, -1), token[:, None]], -1)
            continue
        scores = scores + best
        beams = torch.cat([beams, token[:, None]], -1)
    return beams[scores.argmax()]


# ------------------------------------------------------------------------------------------ repeat blocking
def _banned_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(5)
    return [
        Case("3 beams of 12 tokens from 4, n = 2", (torch.randint(0, 4, (3, 12), generator=generator), 2, 6)),
        Case(
            "n = 3, a beam whose last trigram's start repeats", (torch.tensor([[1, 2, 3, 1, 2], [4, 4, 4, 4, 0]]), 3, 6)
        ),
        Case("n = 3, the repeat is the beam's last trigram", (torch.tensor([[5, 1, 2, 1, 2], [0, 1, 0, 1, 0]]), 3, 6)),
        Case("n = 3, a run of one token (the last trigram repeats itself)", (torch.tensor([[3, 7, 7, 7]]), 3, 8)),
        Case("n = 1 (every token already present)", (torch.randint(0, 9, (2, 6), generator=generator), 1, 10)),
        Case("beams shorter than n (nothing banned yet)", (torch.tensor([[1, 1], [2, 3]]), 3, 4)),
        Case("n = 0 (a ValueError)", (torch.tensor([[1, 2, 3]]), 0, 4)),
    ]


def _banned(beams, n, d_vocab, *, last_window: bool = True, tail: int | None = None, own_beam: bool = True):
    """Repeat blocking with one thing changeable, for the wrong variants."""
    tail = n - 1 if tail is None else tail
    banned = torch.zeros(len(beams), d_vocab, dtype=torch.bool)
    rows = beams.tolist()
    for b, beam in enumerate(rows):
        histories = [beam] if own_beam else rows
        end = beam[len(beam) - tail :] if tail else []
        for history in histories:
            for start in range(len(history) - tail - (0 if last_window else 1)):
                if start + tail < len(history) and history[start : start + tail] == end:
                    banned[b, history[start + tail]] = True
    return banned


def _banned_last_missed(beams, n, d_vocab):
    return _banned(beams, n, d_vocab, last_window=False)


def _banned_tail_of_n(beams, n, d_vocab):
    return _banned(beams, n, d_vocab, tail=n)


def _banned_across_beams(beams, n, d_vocab):
    return _banned(beams, n, d_vocab, own_beam=False)


# ------------------------------------------------------------------ beam search: end of text, several sequences
def _sequences_cases() -> list[Case]:
    prompt = torch.tensor([1, 2, 3])
    return [
        Case("4 beams, 3 sequences, end token 0, 6 new tokens", (_beam_model(40), prompt, 4, 6, 3, 0, None)),
        Case("5 beams, 5 sequences, end token 5, 7 new tokens", (_beam_model(7), prompt, 5, 7, 5, 5, None)),
        Case("3 beams, no end token, no repeated bigram", (_beam_model(9), prompt, 3, 8, 2, None, 2)),
        Case("4 beams, end token 2, no repeated trigram", (_beam_model(11), torch.tensor([2, 4, 2]), 4, 8, 4, 2, 3)),
        Case("1 beam, 1 sequence, end token 3 (greedy, stopping at 3)", (_beam_model(2), prompt, 1, 6, 1, 3, None)),
        Case("num_return_sequences > n_beams (a ValueError)", (_beam_model(1), prompt, 2, 3, 3, 0, None)),
    ]


def _beam_variant(
    model,
    prompt,
    n_beams,
    n_new,
    n_return,
    eos,
    ngram,
    *,
    extend_finished=False,
    keep_finished=True,
    mean=False,
    block=True,
    pad=None,
    reverse=False,
):
    """Beam search with end of text and repeat blocking, one thing changeable, for the wrong variants."""
    if not 1 <= n_return <= n_beams:
        raise ValueError("num_return_sequences")
    beams, scores, finished = prompt[None], torch.zeros(1), []
    for _ in range(n_new):
        if len(beams) == 0:
            break
        logprobs = model(beams)[:, -1].log_softmax(-1)
        if ngram is not None and block:
            logprobs = logprobs.masked_fill(sampling.banned_tokens(beams, ngram, logprobs.shape[-1]), float("-inf"))
        candidates = (scores[:, None] + logprobs).flatten()
        kept, index = candidates.topk(min(n_beams, int(candidates.isfinite().sum())))
        extended = torch.cat([beams[index // logprobs.shape[-1]], (index % logprobs.shape[-1])[:, None]], -1)
        done = (
            extended[:, -1] == eos
            if eos is not None and not extend_finished
            else torch.zeros(len(kept), dtype=torch.bool)
        )
        finished += list(zip(kept[done].tolist(), extended[done], strict=True)) if keep_finished else []
        beams, scores = extended[~done], kept[~done]
    ranked = finished + list(zip(scores.tolist(), beams, strict=True))
    if mean:
        ranked = [(score / (len(seq) - len(prompt)), seq) for score, seq in ranked]
    ranked = sorted(ranked, key=lambda pair: pair[0], reverse=not reverse)[:n_return]
    fill = (eos if eos is not None else 0) if pad is None else pad
    rows = [F.pad(seq, (0, len(prompt) + n_new - len(seq)), value=fill) for _, seq in ranked]
    return torch.stack(rows)


def _finished_extended(*args):
    return _beam_variant(*args, extend_finished=True)


def _finished_dropped(*args):
    return _beam_variant(*args, keep_finished=False)


def _ranked_by_mean(*args):
    return _beam_variant(*args, mean=True)


def _not_blocked(*args):
    return _beam_variant(*args, block=False)


def _padded_with_zero(*args):
    return _beam_variant(*args, pad=-1 if args[5] == 0 else 0)


def _worst_first(*args):
    return _beam_variant(*args, reverse=True)


# ---------------------------------------------------------------------------------- a cached forward of your model
