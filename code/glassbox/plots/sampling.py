"""Figures of chapter 5b (sampling and generation): the KV cache's speed-up against sequence length."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from glassbox.plots.core import figure


def kv_cache_speedup(lengths: Sequence[int], uncached_s: Sequence[float], cached_s: Sequence[float]) -> Figure:
    """Left: seconds to generate sequences of each length, with and without the KV cache (log-log). Right: the
    speed-up, uncached time / cached time, for each length."""
    fig, (ax_time, ax_ratio) = figure(ncols=2, width=3.5, height=3.2)
    ax_time.plot(lengths, uncached_s, marker="o", color="#D55E00", label="without cache")
    ax_time.plot(lengths, cached_s, marker="s", color="#0072B2", label="with KV cache")
    ax_time.set(xscale="log", yscale="log", xlabel="tokens generated", ylabel="seconds", title="Time to generate")
    ax_time.set_xticks(list(lengths), labels=[str(n) for n in lengths])
    ax_time.minorticks_off()
    ax_time.legend(fontsize=9, frameon=False)
    ratio = [u / c for u, c in zip(uncached_s, cached_s, strict=True)]
    ax_ratio.plot(lengths, ratio, marker="o", color="black")
    ax_ratio.axhline(1.0, color="grey", linestyle=":", label="no speed-up")
    ax_ratio.set(xscale="log", xlabel="tokens generated", ylabel="uncached time / cached time", title="Speed-up")
    ax_ratio.set_xticks(list(lengths), labels=[str(n) for n in lengths])
    ax_ratio.minorticks_off()
    ax_ratio.set_ylim(bottom=0)
    ax_ratio.legend(fontsize=9, frameon=False, loc="upper left")
    for ax in (ax_time, ax_ratio):
        ax.grid(alpha=0.3)
    return fig
