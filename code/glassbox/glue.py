"""`glue`: a number computed in a chapter's cell, recorded for the prose to quote (`{glue:text}` in MyST).

The chapters use this one rather than myst_nb's, so their Colab notebooks need no Sphinx packages; `glued_values`
reads the recorded values back from an executed notebook (the Colab notebooks fill them into their prose).
"""

from __future__ import annotations

import math
from typing import Any

GLUE_PREFIX = "application/papermill.record/"  # what myst-nb looks for in a cell's outputs


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record `value` under `name` for the page's prose (`{glue:text}` in MyST), as myst_nb.glue does.

    The chapters use this one so that their Colab notebooks need no Sphinx packages.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy or torch scalar → Python number,
        value = value.item()  # which {glue:text} formats
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"glue {name!r}: the value is {value}, which no sentence should state — a computation went wrong"
        )

    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def glue_all(**values: Any) -> None:
    """Record several values at once for the page's prose, each under its keyword's name (nothing is displayed):
    `glue_all(mlp_share=100 * mlp / total, attn_share=100 * attn / total)`."""
    for name, value in values.items():
        glue(name, value)


def glued_values(executed: dict | None) -> dict[str, str]:
    """Glued values (as text) from an executed notebook, keyed by name."""
    values = {}
    for cell in (executed or {}).get("cells", []):
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if record:
                text = output.get("data", {}).get(record["mime_prefix"] + "text/plain")
                if text is not None:
                    values[record["name"]] = str(text).strip("'\"")
    return values
