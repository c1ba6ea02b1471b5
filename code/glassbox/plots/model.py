"""Chapter 4 figures: where a model's parameters are, by kind of component and layer by layer."""

from __future__ import annotations

from matplotlib.figure import Figure

from glassbox.parameters import component_kind
from glassbox.plots.core import OKABE_ITO, panels

# one colour per kind of component, the same in both panels, told apart with any colour vision (Okabe–Ito)
KIND_COLOURS = {
    "attention": OKABE_ITO["orange"],
    "MLP": OKABE_ITO["blue"],
    "LayerNorm": OKABE_ITO["reddish purple"],
    "embedding": OKABE_ITO["sky blue"],
    "unembedding": OKABE_ITO["bluish green"],
}


def parameter_breakdown(counts: dict[str, int], n_layers: int) -> Figure:
    """Left: parameters by kind of component (summed over layers). Right: each layer's attention, MLP, LayerNorm."""
    fig, (left, right) = panels(2, height=3.4)
    by_kind: dict[str, int] = {}
    for component, count in counts.items():
        by_kind[component_kind(component)] = by_kind.get(component_kind(component), 0) + count
    kinds = sorted(by_kind, key=by_kind.get, reverse=True)
    bars = left.barh(
        kinds[::-1], [by_kind[k] for k in kinds[::-1]], color=[KIND_COLOURS.get(k, "tab:grey") for k in kinds[::-1]]
    )
    left.bar_label(bars, labels=[f"{by_kind[k]:,}" for k in kinds[::-1]], padding=3, fontsize=8)
    left.set(xlabel="parameters", title="By kind of component")
    left.margins(x=0.25)
    bottom = [0] * n_layers
    for kind in ("attention", "MLP", "LayerNorm"):
        heights = [
            sum(c for name, c in counts.items() if name.startswith(f"blocks.{layer}.") and component_kind(name) == kind)
            for layer in range(n_layers)
        ]
        if any(heights):
            right.bar(range(n_layers), heights, bottom=bottom, label=kind, color=KIND_COLOURS[kind])
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    # head room above the bars for the legend, so that it covers no data
    right.set(
        xlabel="layer", ylabel="parameters", title="Per block", xticks=range(n_layers), ylim=(0, 1.35 * max(bottom))
    )
    right.legend(fontsize=8, loc="upper center", ncol=3, frameon=False)
    return fig
