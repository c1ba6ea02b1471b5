"""Part VI figures (chapters 13–15): toy-model geometry and phase diagram, SAE statistics, probe accuracy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from jaxtyping import Float
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from torch import Tensor

from glassbox.plots.core import figure, heatmap


def _np(x: Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)


# ------------------------------------------------------------------------------------------- chapter 13
def _grid(n: int, *, width: float, height: float, ncols: int = 3) -> tuple[Figure, np.ndarray]:
    """At most three panels a row, so that each stays legible at page width; unused panels are hidden."""
    nrows = -(-n // ncols)
    fig, axes = figure(min(n, ncols), nrows, width=width, height=height)
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def toy_geometry(
    W: Float[Tensor, "instance 2 feature"], titles: Sequence[str], importance: Float[Tensor, "feature"]
) -> Figure:
    """Each feature's column W_i as an arrow in the 2-D hidden space, one panel per instance; darker arrows for
    more important features."""
    if W.shape[1] != 2 or len(titles) != W.shape[0]:
        raise ValueError(f"need W of shape [instance, 2, feature] and one title per instance, got {tuple(W.shape)}")
    fig, axes = _grid(W.shape[0], width=2.6, height=2.8)
    colours = matplotlib.colormaps["viridis_r"](0.25 + 0.75 * _np(importance / importance.max()))
    for ax, w, title in zip(axes, _np(W), titles, strict=False):
        for i in range(w.shape[1]):
            if np.linalg.norm(w[:, i]) < 0.05:  # a dropped feature: no arrow
                continue
            ax.annotate("", xy=w[:, i], xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color=colours[i], lw=2))
            ax.text(*(1.22 * w[:, i]), str(i), ha="center", va="center", fontsize=11)
        ax.set(xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), aspect="equal", xticks=[-1, 0, 1], yticks=[-1, 0, 1])
        ax.set_title(title, fontsize=12)
        ax.set_xlabel("hidden dimension 0")
        ax.set_ylabel("hidden dimension 1")
        ax.grid(alpha=0.3)
    return fig


def gram_matrices(W: Float[Tensor, "instance d_hidden feature"], titles: Sequence[str]) -> Figure:
    """WᵀW per instance: the diagonal is each feature's squared length ‖W_i‖², an off-diagonal entry the
    interference W_i·W_j between two features (red positive, blue negative)."""
    n, _, f = W.shape
    fig, axes = _grid(n, width=2.6, height=2.5)
    W = W.detach()
    gram = W.transpose(1, 2) @ W  # [instance, feature, feature]
    for ax, matrix, title in zip(axes, gram, titles, strict=False):
        heatmap(ax, matrix, cmap="RdBu_r", vmin=-1.3, vmax=1.3, colorbar=False, annotate=False)
        ax.set(xticks=range(f), yticks=range(f), xlabel="feature j", ylabel="feature i")
        ax.set_title(title, fontsize=12)
    image = axes[0].images[0]
    fig.colorbar(image, ax=list(axes[:n]), shrink=0.6, label="W_i · W_j")
    return fig


PHASES = ("feature 2 dropped", "superposition (opposite signs)", "feature 2 gets the dimension", "blend (same sign)")
PHASE_COLOURS = ("0.25", "tab:blue", "tab:red", "gold")


def phase_diagram(
    phase: Float[Tensor, "density importance"],
    densities: Float[Tensor, "density"],
    importances: Float[Tensor, "importance"],
) -> Figure:
    """The n = 2, m = 1 phase diagram: which solution training found for each feature density (1 − S) and
    relative importance of the second feature."""
    fig, (ax,) = figure(width=5.6, height=4.0)
    ax.imshow(_np(phase).T, origin="lower", cmap=ListedColormap(PHASE_COLOURS), vmin=-0.5, vmax=3.5, aspect="auto")
    ax.set_xticks(range(len(densities)), labels=[f"{d:.2g}" for d in _np(densities)], fontsize=8)
    ax.set_yticks(range(len(importances)), labels=[f"{r:.2g}" for r in _np(importances)], fontsize=8)
    ax.set(xlabel="feature density 1 − S  (sparser →)", ylabel="relative importance of feature 2")
    fig.legend(
        handles=[Patch(color=c, label=p) for c, p in zip(PHASE_COLOURS, PHASES, strict=True)],
        loc="outside lower center",
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    return fig


def dimensionality(
    sparsity: Float[Tensor, "instance"],
    per_model: Float[Tensor, "instance"],
    per_feature: Float[Tensor, "instance feature"],
) -> Figure:
    """Dimensions per feature, D* = m/‖W‖_F² (line), and every feature's own dimensionality D_i (dots), against
    1/(1 − S), the expected number of features between two occurrences of one."""
    fig, (ax,) = figure(width=6.4, height=4.0)
    x = 1 / (1 - _np(sparsity))
    dots = _np(per_feature)
    jitter = np.exp(np.random.default_rng(0).uniform(-0.06, 0.06, dots.shape))  # spread dots that fall on each other
    ax.scatter(
        (x[:, None] * jitter).ravel(), dots.ravel(), s=10, alpha=0.5, color="tab:blue", label="each feature, D_i"
    )
    ax.plot(x, _np(per_model), "o-", color="black", label="whole model, D* = m / ‖W‖²")
    for value, label in ((1, "1"), (1 / 2, "1/2"), (1 / 3, "1/3"), (1 / 4, "1/4")):
        ax.axhline(value, color="grey", lw=0.6, ls=":")
        ax.text(x.max() * 1.15, value, label, va="center", fontsize=8, color="0.3")
    ax.set_xscale("log")
    ax.set(xlabel="1 / (1 − S)   (sparser →)", ylabel="dimensions per feature", ylim=(-0.03, 1.1))
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


# ------------------------------------------------------------------------------------------- chapter 14
def feature_density(density: Float[Tensor, "d_sae"], n_tokens: int) -> Figure:
    """Histogram of log10(fraction of tokens each feature fires on); dead features (never firing on the
    `n_tokens` tokens) are counted at the left edge."""
    fig, (ax,) = figure(width=6.0, height=3.6)
    values = _np(density)
    alive = values[values > 0]
    floor = np.log10(1 / n_tokens)
    ax.hist(np.log10(alive), bins=40, range=(floor, 0), color="tab:blue")
    dead = int((values == 0).sum())
    if dead:
        ax.bar(floor - 0.1, dead, width=0.1, color="tab:red", label=f"dead: {dead}")
        ax.legend(fontsize=9, frameon=False)
    ax.set(xlabel="log₁₀ fraction of tokens on which the feature fires", ylabel="number of features")
    ax.grid(alpha=0.3)
    return fig


def spliced_losses(losses: Mapping[str, float]) -> Figure:
    """Next-token loss of the model as it is, with the SAE's reconstruction spliced in, and with the activation
    zeroed: horizontal bars with their values."""
    fig, (ax,) = figure(width=6.0, height=0.5 * len(losses) + 1.2)
    names, values = list(losses), np.array(list(losses.values()))
    bars = ax.barh(range(len(names)), values, color=["tab:blue", "tab:green", "0.5", "tab:orange"][: len(names)])
    ax.bar_label(bars, fmt="%.3f", padding=3, fontsize=9)
    ax.set_yticks(range(len(names)), labels=names)
    ax.invert_yaxis()
    ax.set(xlabel="next-token loss on held-out text (nats)", xlim=(0, values.max() * 1.2))
    return fig


class ContextTable:
    """Top-activating contexts of several features as an HTML table: the text before, the activating character
    highlighted, the text after. Real text, so it reflows on a phone and a screen reader reads it."""

    def __init__(self, rows: Sequence[tuple[str, Sequence[tuple[str, str, str, float]]]]):
        self.rows = rows

    @staticmethod
    def _show(text: str) -> str:
        import html

        return html.escape(text).replace("\n", "⏎").replace(" ", "&nbsp;")

    def _repr_html_(self) -> str:
        parts = [
            '<table class="glassbox-contexts"><thead><tr><th scope="col">feature</th>'
            '<th scope="col">top-activating contexts (the highlighted character is where it fires)</th>'
            "</tr></thead><tbody>"
        ]
        for label, contexts in self.rows:
            cells = "<br>".join(
                f"<code>{self._show(before)}<mark>{self._show(char)}</mark>{self._show(after)}</code> "
                f"<small>({value:.2f})</small>"
                for before, char, after, value in contexts
            )
            parts.append(
                f'<tr><th scope="row" style="text-align:left;vertical-align:top">{label}</th><td>{cells}</td></tr>'
            )
        return "".join(parts) + "</tbody></table>"

    def __repr__(self) -> str:
        lines = []
        for label, contexts in self.rows:
            lines.append(label)
            lines += [f"  {before!r} [{char!r}] {after!r}  ({value:.2f})" for before, char, after, value in contexts]
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------- chapter 15
PROBE_STYLES = {  # how each kind of probe score is drawn, wherever it appears
    "trained model": dict(fmt="o-", color="tab:blue"),
    "random twin": dict(fmt="s--", color="tab:orange"),
    "control task (trained model)": dict(fmt="^-.", color="tab:green"),
    "control task (random twin)": dict(fmt="v:", color="0.55"),
}


def probe_accuracy(
    layers: Sequence[str],
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    chance: float = 0.5,
    *,
    ylabel: str = "balanced accuracy",
) -> Figure:
    """Probe scores by layer, one panel per property: one line per kind of run (`curves[kind][property]`, drawn as
    `PROBE_STYLES` says), and a dotted line at what guessing scores."""
    names = list(next(iter(curves.values())))
    fig, axes = _grid(len(names), width=3.4, height=2.9, ncols=2)
    x = np.arange(len(layers))
    for ax, name in zip(axes, names, strict=False):
        for kind, scores in curves.items():
            style = PROBE_STYLES.get(kind, dict(fmt="x:", color="0.3"))
            ax.plot(x, scores[name], style["fmt"], color=style["color"], label=kind)
        ax.axhline(chance, color="0.4", ls=":", label="chance")
        ax.set_xticks(x, labels=layers, fontsize=9)
        ax.set_title(name, fontsize=11)
        ax.set(ylabel=ylabel, ylim=(chance - 0.05, 1.0))  # one scale for every panel: small differences look small
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    return fig


def steering(
    alphas: Sequence[float], probe: Sequence[float], random: Sequence[Sequence[float]], *, ylabel: str
) -> Figure:
    """A probability against the steering strength, along the probe's direction and along random directions."""
    fig, (ax,) = figure(width=5.6, height=3.6)
    for k, curve in enumerate(random):
        ax.plot(alphas, curve, color="0.6", lw=1, label="random directions" if k == 0 else None)
    ax.plot(alphas, probe, "o-", color="tab:blue", label="probe direction")
    ax.set(xlabel="steering strength α (in units of the stream's mean norm)", ylabel=ylabel, ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, frameon=False)
    return fig
