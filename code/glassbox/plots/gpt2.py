"""Figures of chapter 12 (a real model): next-token bars, residual norms and similarities, attention against MLP,
the logit lens, attention entropy, parameters by component — and circuitsvis's attention widget, loaded once a page.

Every function takes tensors (or plain lists) and returns a `BookFigure`, except `attention_heads_widget`, which
returns an object Jupyter shows as interactive HTML.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from jaxtyping import Float
from matplotlib.figure import Figure
from torch import Tensor

from glassbox.plots.core import COLUMN_INCHES, figure, heatmap, panels, text_colour


def shown(token: str) -> str:
    """A token as a label: escapes visible (newline as \\n), spaces as ␣, so that ' ' and '' do not vanish."""
    return repr(token)[1:-1].replace(" ", "␣") or "∅"


def next_token_bars(tokens: Sequence[str], probs: Float[Tensor, "k"], *, title: str = "") -> Figure:
    """Horizontal bars of the k most likely next tokens, the most likely on top."""
    if len(tokens) != len(probs):
        raise ValueError(f"{len(tokens)} token labels for {len(probs)} probabilities")
    fig, (ax,) = figure(width=5.6, height=0.32 * len(tokens) + 1.2)
    labels = [repr(t) for t in tokens]
    ax.barh(range(len(tokens)), probs.detach().cpu().numpy(), color="tab:blue")
    ax.set_yticks(range(len(tokens)), labels=labels, fontfamily="monospace")
    ax.invert_yaxis()
    ax.set(xlabel="probability of the next token", title=title)
    for i, p in enumerate(probs.tolist()):
        ax.text(p, i, f" {p:.1%}", va="center", fontsize=8)
    ax.set_xlim(0, max(probs.max().item() * 1.25, 1e-3))
    return fig


def residual_geometry(
    norms: dict[str, Float[Tensor, "layer"]],
    similarity: Float[Tensor, "layer layer"],
    layer_labels: Sequence[str],
) -> Figure:
    """Left: the residual stream's norm after each layer, one line per group of positions. Right: cosine similarity
    of the stream at the last position between every pair of layers."""
    if similarity.shape != (len(layer_labels), len(layer_labels)):
        raise ValueError(f"similarity has shape {tuple(similarity.shape)} for {len(layer_labels)} layer labels")
    fig, (left, right) = panels(2, height=3.9)
    for i, (label, values) in enumerate(norms.items()):
        if values.shape != (len(layer_labels),):
            raise ValueError(f"norms[{label!r}] has shape {tuple(values.shape)} for {len(layer_labels)} layer labels")
        left.plot(range(len(layer_labels)), values.cpu().numpy(), marker="o", markersize=3, label=label, color=f"C{i}")
    left.set_xticks(range(len(layer_labels)), labels=layer_labels, rotation=90, fontsize=8)
    left.set(ylabel="norm of the residual stream (log scale)", title="Norm through the layers")
    left.set_yscale("log")
    left.legend(fontsize=8)
    heatmap(
        right,
        similarity,
        row_labels=layer_labels,
        col_labels=layer_labels,
        cmap="RdBu_r",
        vmin=-1.0,
        vmax=1.0,
        annotate=len(layer_labels) <= 6,
    )
    right.tick_params(axis="x", labelrotation=90, labelsize=8)
    right.tick_params(axis="y", labelsize=8)
    right.set(title="Cosine similarity, last position")
    return fig


def head_pattern(pattern: Float[Tensor, "query_pos key_pos"], labels: Sequence[str], *, title: str = "") -> Figure:
    """One head's attention pattern as a heatmap (weights written in the cells when there are few tokens)."""
    if pattern.shape != (len(labels), len(labels)):
        raise ValueError(f"pattern has shape {tuple(pattern.shape)} for {len(labels)} token labels")
    size = min(max(0.32 * len(labels) + 2.2, 4.0), COLUMN_INCHES - 0.8)  # never wider than the column: no shrinking
    fig, (ax,) = figure(width=size + 0.8, height=size)
    names = [shown(t) for t in labels]
    heatmap(ax, pattern, row_labels=names, col_labels=names, annotate=len(labels) <= 10, vmin=0.0, vmax=1.0)
    ax.tick_params(axis="x", labelrotation=90)
    ax.set(xlabel="key (attended to)", ylabel="query (attending)", title=title)
    return fig


def attention_vs_mlp(attn: Float[Tensor, "layer"], mlp: Float[Tensor, "layer"]) -> Figure:
    """Grouped bars per layer: the norm of what attention writes next to the norm of what the MLP writes."""
    if attn.shape != mlp.shape:
        raise ValueError(f"attention and MLP norms differ in shape: {tuple(attn.shape)} and {tuple(mlp.shape)}")
    fig, (ax,) = figure(width=6.4, height=3.2)
    layers = np.arange(len(attn))
    ax.bar(layers - 0.2, attn.cpu().numpy(), width=0.4, label="attention output", color="tab:blue")
    ax.bar(layers + 0.2, mlp.cpu().numpy(), width=0.4, label="MLP output", color="tab:orange")
    ax.set_xticks(layers)
    ax.set(xlabel="layer", ylabel="mean norm of the output", title="What each sublayer writes")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)  # beside the bars, never over one
    return fig


def logit_lens(
    probs: Float[Tensor, "layer pos"],
    top_tokens: Sequence[Sequence[str]],
    layer_labels: Sequence[str],
    pos_labels: Sequence[str],
) -> Figure:
    """The logit lens: each cell is the top token read from the stream at (layer, position), shaded by its
    probability."""
    if probs.shape != (len(layer_labels), len(pos_labels)):
        raise ValueError(f"probs has shape {tuple(probs.shape)}, labels give {len(layer_labels)}×{len(pos_labels)}")
    width = min(0.75 * len(pos_labels) + 2.5, COLUMN_INCHES)  # at most the column, so 8 pt stays 8 pt on the page
    fig, (ax,) = figure(width=width, height=0.42 * len(layer_labels) + 1.6)
    heatmap(
        ax, probs, row_labels=layer_labels, col_labels=[shown(t) for t in pos_labels], vmin=0.0, vmax=1.0, cmap="Blues"
    )
    # as many characters of each top token as fit its cell at 8 pt monospace (0.6 em a character), the rest "…"
    fits = max(2, int((width - 2.5) / len(pos_labels) * 72 / (0.6 * 8)))
    image = ax.images[0]
    for (i, j), p in np.ndenumerate(probs.cpu().numpy()):
        token = shown(top_tokens[i][j])
        ax.text(
            j,
            i,
            token if len(token) <= fits else token[: fits - 1] + "…",
            ha="center",
            va="center",
            fontsize=8,
            color=text_colour(image.cmap(image.norm(p))),
            fontfamily="monospace",
        )
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    ax.set(
        xlabel="position (the token read there)",
        ylabel="residual stream after",
        title="Top prediction read from each layer",
    )
    return fig


def entropy_by_head(entropies: dict[str, Float[Tensor, "layer head"]]) -> Figure:
    """One panel per model: every head's attention entropy as a share of uniform attention's on the same tokens
    (0 = one key, 1 = as spread as uniform attention)."""
    if not entropies:
        raise ValueError("no models to plot")
    fig, axes = panels(len(entropies), height=2.4 + 0.12 * max(v.shape[0] for v in entropies.values()))
    for ax, (name, values) in zip(axes, entropies.items(), strict=True):
        heatmap(
            ax,
            values,
            row_labels=[str(i) for i in range(values.shape[0])],
            col_labels=[str(i) for i in range(values.shape[1])],
            vmin=0.0,
            vmax=1.0,
            cmap="viridis",
            annotate=values.shape[1] <= 8,
            fmt=".1f",
        )
        ax.set(xlabel="head", ylabel="layer", title=name)
    return fig


def head_grid(values: Float[Tensor, "layer head"], *, title: str, label: str, vmax: float | None = None) -> Figure:
    """One score per head of a model (layers down, heads across), on a colour bar from 0 to `vmax` (the largest
    score if not given: only for scores whose scale has no natural top) — annotated when the grid is small enough
    to read."""
    fig, (ax,) = figure(width=4.8, height=0.28 * values.shape[0] + 1.8)
    heatmap(
        ax,
        values,
        row_labels=[str(i) for i in range(values.shape[0])],
        col_labels=[str(i) for i in range(values.shape[1])],
        vmin=0.0,
        vmax=vmax if vmax is not None else max(float(values.max()), 1e-6),
        cmap="viridis",
        annotate=values.shape[1] <= 8,
        fmt=".2f",
    )
    ax.set(xlabel="head", ylabel="layer", title=title)
    fig.axes[-1].set_ylabel(label) if len(fig.axes) > 1 else None
    return fig


def parameters_by_kind(counts: dict[str, dict[str, int]]) -> Figure:
    """Share of each model's parameters in each kind of component, side by side (one bar per model)."""
    fig, (ax,) = figure(width=6.4, height=0.7 * len(counts) + 1.6)
    kinds = list(next(iter(counts.values())))
    names = list(counts)
    left = np.zeros(len(names))
    for k, kind in enumerate(kinds):
        totals = np.array([sum(counts[n].values()) for n in names], dtype=float)
        share = np.array([counts[n][kind] for n in names], dtype=float) / totals
        ax.barh(names, share, left=left, label=kind, color=f"C{k}")
        left += share
    ax.set(xlabel="share of the parameters", xlim=(0, 1))
    ax.invert_yaxis()
    ax.legend(ncols=len(kinds), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    return fig


# ------------------------------------------------------------------------------------- circuitsvis, loaded once
def circuitsvis_bundle_path() -> Path:
    """The browser bundle that ships with the installed circuitsvis: what `circuitsvis.attention.attention_heads`
    inlines into every figure offline, and what a page must load once for `AttentionHeadsWidget`."""
    import circuitsvis

    return Path(circuitsvis.__file__).parent / "dist" / "cdn" / "iife.js"


class AttentionHeadsWidget:
    """circuitsvis's `AttentionHeads` view without its 1.3 MB inline bundle.

    `circuitsvis.attention.attention_heads` inlines the whole JavaScript bundle into every figure when the machine
    that renders it is offline, and gives each figure a random id (so two builds differ). This object emits the
    same component with a deterministic id and a few kilobytes of data. It draws with the bundle the page has already
    loaded (`window.CircuitsVis`: a site can load it once, in its head, for every widget of the page; the book's
    Sphinx extension looks for the `glassbox-circuitsvis` class to do so) and otherwise (Jupyter, Colab) fetches it
    from the unpkg CDN.
    """

    def __init__(self, props: dict):
        from circuitsvis.utils.convert_props import convert_props

        self.props = convert_props(props).replace("</", "<\\/")  # a token such as "</script>" cannot end the script
        self.id = "glassbox-cv-" + hashlib.sha256(self.props.encode()).hexdigest()[:12]

    def _repr_html_(self) -> str:
        import circuitsvis

        cdn = f"https://unpkg.com/circuitsvis@{circuitsvis.__version__}/dist/cdn/iife.js"
        return f"""<style>.glassbox-circuitsvis h3 {{ font-size: 1.1rem; }}
.glassbox-circuitsvis h4 {{ font-size: 0.8rem; line-height: 1.2; }}</style>
<div id="{self.id}" class="glassbox-circuitsvis" style="margin: 15px 0;"></div>
<script>
(function () {{
  var id = {json.dumps(self.id)}, props = {self.props};
  function draw() {{ window.CircuitsVis.render(id, window.CircuitsVis.AttentionHeads, props); }}
  function fromCdn() {{
    var s = document.createElement("script"); s.src = {json.dumps(cdn)}; s.onload = draw;
    document.head.appendChild(s);
  }}
  if (window.CircuitsVis) draw();
  else if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", function () {{ window.CircuitsVis ? draw() : fromCdn(); }});
  else fromCdn();
}})();
</script>"""


def attention_heads_widget(
    pattern: Float[Tensor, "head query_pos key_pos"],
    tokens: Sequence[str],
    head_names: Sequence[str] | None = None,
) -> AttentionHeadsWidget:
    """The interactive attention view of `circuitsvis.attention.attention_heads` for every head of one layer."""
    if pattern.ndim != 3 or pattern.shape[1] != pattern.shape[2] or pattern.shape[1] != len(tokens):
        raise ValueError(
            f"pattern must be [head, pos, pos] with pos = {len(tokens)} tokens, got {tuple(pattern.shape)}"
        )
    names = list(head_names) if head_names is not None else [f"head {h}" for h in range(pattern.shape[0])]
    values = torch.round(pattern.detach().double().cpu() * 1e4) / 1e4  # four decimals: a smaller page, same picture
    return AttentionHeadsWidget(
        {"attention": values, "tokens": list(tokens), "attentionHeadNames": names, "maskUpperTri": True}
    )
