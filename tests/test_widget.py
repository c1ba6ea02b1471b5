"""Chapter 6's widget (`glassbox.rules.widget`): the exported JSON gives back PyTorch's model exactly, and the
browser's forward pass equals PyTorch's — on 1,000 random windows, and after a reader's edits made with the keyboard
(a token's embedding and a value moved with the arrow keys), computed again in PyTorch with the same edits.

The browser half needs Chromium and tests/site's node packages (`make site-check` installs both); without them it
is skipped, and the site check runs the same comparison on the built chapter."""

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import tomllib
import torch
from glassbox.model import Transformer
from glassbox.rules import get_rule, get_setup, widget

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "tests" / "site"
RULE = get_rule("plus_last_even")


@pytest.fixture(scope="module")
def model() -> Transformer:
    """An untrained model, with weights drawn 4 times wider than at initialisation: an exactness check needs no
    training, and wider weights give sharp attention and large logits, the hardest case for float32 arithmetic."""
    model = Transformer(get_setup("plus_last_even").model_config(RULE.d_vocab, seed=3)).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(4.0).add_(0.1 * torch.randn(parameter.shape, generator=torch.Generator().manual_seed(1)))
    return model


def test_the_export_is_a_few_kilobytes_and_gives_back_the_same_model(model):
    data = widget.export(model, RULE)
    assert len(json.dumps(data, separators=(",", ":"))) < 16_000, "a few KB of JSON"
    back = widget.model_from_export(data)
    for name, tensor in model.state_dict().items():
        assert torch.equal(back.state_dict()[name], tensor), f"{name}: nine digits must give back every float32"
    for item in data["reference"]:
        torch.testing.assert_close(widget.logits_of(model, [item["window"]])[0], torch.tensor(item["logits"]))
    names = [s["name"] for s in data["scenarios"]]
    assert names == ["Two evens, then +", "An even number far back", "A + at position 0"]
    far = data["scenarios"][1]["window"]
    assert RULE.evens.count(far[0]) and all(t % 2 for t in far[1:-1]) and far[-1] == RULE.plus


def test_the_far_back_scenario_is_the_models_worst_such_window(model):
    window = widget.far_back_window(model, RULE)
    worst = widget.logits_of(model, [window])[0, -1].softmax(-1)[window[0]]
    other = [2, 1, 1, 1, 1, 1, 1, RULE.plus]
    assert worst <= widget.logits_of(model, [other])[0, -1].softmax(-1)[2]


def test_the_widget_refuses_a_model_that_is_not_planar():
    setup = get_setup("step_back")  # d_model 4
    with pytest.raises(ValueError, match="d_model 2"):
        widget.export(Transformer(setup.model_config(get_rule("step_back").d_vocab)), get_rule("step_back"))


def test_the_html_carries_the_model_and_the_script():
    page = widget.touch(Transformer(get_setup("plus_last_even").model_config(RULE.d_vocab)), RULE)._repr_html_()
    assert widget.MARKER in page and 'class="glassbox-touch-model"' in page and "GlassBoxTouch" in page
    assert "</script>" not in page.split('class="glassbox-touch-model"')[1].split("</script>")[0][:-1]


def browser_run(tmp_path: Path, data: dict, windows: list[list[int]]) -> dict:
    if shutil.which("node") is None or not (SITE / "node_modules" / "puppeteer-core").exists():
        pytest.skip("needs node and tests/site's packages (cd tests/site && npm ci)")
    if not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")):
        pytest.skip("needs Chromium (apt-get install chromium)")
    page = tmp_path / "touch.html"
    page.write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>t</title></head><body><main>"
        + widget.Touch(data)._repr_html_()
        + "</main></body></html>"
    )
    (tmp_path / "windows.json").write_text(json.dumps(windows))
    subprocess.run(
        ["node", str(SITE / "touch_probe.mjs"), str(page), str(tmp_path / "windows.json"), str(tmp_path / "out.json")],
        check=True,
        timeout=240,
    )
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["errors"] == [], "the page threw"
    return out


def largest_difference(browser: list, torch_logits: list) -> float:
    pairs = zip(browser, torch_logits, strict=True)
    # float32 rounding grows with a logit's size: the difference is read per 10 units of logit above 10 (as the
    # site check reads it), so 1e-4 is the bound for logits up to 10 and scales above (they reach ~100)
    return max(
        ((torch.as_tensor(b) - torch.as_tensor(t)).abs() / (torch.as_tensor(t).abs() / 10).clamp_min(1)).max().item()
        for b, t in pairs
    )


def test_the_browser_computes_what_pytorch_computes_and_after_keyboard_edits(tmp_path, model):
    data = widget.export(model, RULE)
    reference = widget.reference_logits(data, n_windows=1000, seed=0)
    out = browser_run(tmp_path, data, reference["windows"])
    assert largest_difference(out["logits"], reference["logits"]) <= 1e-4, "1,000 random windows"

    def pytorch(state: dict, **edits) -> torch.Tensor:
        edited = json.loads(json.dumps(data))
        edited["weights"]["W_E"], edited["weights"]["W_pos"] = state["W_E"], state["W_pos"]
        values = {int(p): v for p, v in state["pins"].items()}
        return widget.edited_logits(edited, state["tokens"], values)

    for scenario, state in zip(data["scenarios"], out["scenarios"], strict=True):
        assert state["tokens"] == scenario["window"]
        assert largest_difference(state["logits"], pytorch(state)) <= 1e-4
    assert out["typed"]["tokens"] == RULE.encode("2 + 10 +"), "digits, + and 10 typed as 1 then 0"
    moved, valued = out["draggedToken"], out["draggedValue"]
    assert moved["W_E"] != data["weights"]["W_E"] and moved["pins"] == {}, "the arrow keys moved token 2's embedding"
    assert list(valued["pins"]) == ["0"], "then the value of position 0"
    for state in (moved, valued):
        logits = pytorch(state)
        assert largest_difference(state["logits"], logits) <= 1e-4
        assert torch.tensor(state["logits"][-1]).argmax() == logits[-1].argmax(), "the same prediction"
    assert out["reset"]["W_E"] == out["scenarios"][0]["W_E"], "Reset restores the trained weights"
    assert out["reset"]["tokens"] == data["scenarios"][0]["window"]
    best = torch.tensor(out["reset"]["probs"][-1]).argmax().item()
    assert out["live"].startswith("After this + (position 7), the model predicts " + RULE.vocab[best] + " with 0.")


def test_the_site_loads_the_script_from_static_on_widget_pages_only(tmp_path):
    spec = importlib.util.spec_from_file_location("glassbox_widget", ROOT / "book/_ext/glassbox_widget.py")
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    added = []
    app = SimpleNamespace(
        outdir=str(tmp_path), builder=SimpleNamespace(format="html"), add_js_file=lambda *a, **k: added.append(a)
    )
    extension.write_script(app)
    assert (tmp_path / "_static" / "glassbox-touch.js").read_text() == widget.SCRIPT.read_text()
    page = widget.touch(Transformer(get_setup("plus_last_even").model_config(RULE.d_vocab)), RULE)._repr_html_()
    context = {"body": "<p>before</p>" + page + "<p>after</p>"}
    extension.load_on_widget_pages(app, "ch06", "page.html", context, None)
    assert "GlassBoxTouch" not in context["body"] and "glassbox-touch-model" in context["body"]
    assert context["body"].endswith("<p>after</p>") and added == [("glassbox-touch.js",)]
    other = {"body": "<p>no widget</p>"}
    extension.load_on_widget_pages(app, "ch07", "page.html", other, None)
    assert other["body"] == "<p>no widget</p>" and len(added) == 1


def test_the_library_ships_the_script():
    with open(ROOT / "code" / "pyproject.toml", "rb") as f:
        package_data = tomllib.load(f)["tool"]["setuptools"]["package-data"]
    assert widget.SCRIPT.suffix == ".js" and "*.js" in package_data["glassbox.rules"], "Colab installs the wheel"


def test_another_planar_rule_exports_without_scenarios():
    rule = get_rule("lucky7")
    data = widget.export(Transformer(get_setup("lucky7").model_config(rule.d_vocab)), rule)
    assert data["scenarios"] == [] and data["plus"] is None and len(data["reference"]) == 4
