"""The live models of chapters 6 and 7 (`glassbox.rules.widget`): the exported JSON gives back PyTorch's model
exactly, and the browser's forward pass equals PyTorch's — on 1,000 random windows, and after a reader's edits made
with the keyboard (a token's embedding and a value moved with the arrow keys), computed again in PyTorch with the
same edits — for chapter 6's rule and chapter 7's (several widgets on one page); the rule's answer the page states
agrees with `glassbox.rules`.

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
        exact = widget.logits_of(widget.exact(model), [item["window"]])[0]
        torch.testing.assert_close(exact, torch.tensor(item["logits"], dtype=torch.float64), rtol=0, atol=1e-8)
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


def widened(name: str, seed: int = 3) -> Transformer:
    """An untrained model of the gallery entry `name` with weights drawn 4 times wider than at initialisation (as
    the `model` fixture)."""
    setup = get_setup(name)
    model = Transformer(setup.model_config(get_rule(setup.rule).d_vocab, seed=seed)).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(4.0).add_(0.1 * torch.randn(parameter.shape, generator=torch.Generator().manual_seed(1)))
    return model


def browser_run(tmp_path: Path, widgets: dict[str, tuple[dict, list[list[int]]]]) -> dict:
    """One page with a widget per entry of `widgets` (id: (export, windows)), driven by tests/site/touch_probe.mjs:
    each widget's logits and rule answers on its windows, and its states as the keyboard edits it."""
    if shutil.which("node") is None or not (SITE / "node_modules" / "puppeteer-core").exists():
        pytest.skip("needs node and tests/site's packages (cd tests/site && npm ci)")
    if not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")):
        pytest.skip("needs Chromium (apt-get install chromium)")
    page = tmp_path / "touch.html"
    page.write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>t</title></head><body><main>"
        + "".join(widget.Touch(data, element_id)._repr_html_() for element_id, (data, _) in widgets.items())
        + "</main></body></html>"
    )
    (tmp_path / "windows.json").write_text(json.dumps({k: windows for k, (_, windows) in widgets.items()}))
    subprocess.run(
        ["node", str(SITE / "touch_probe.mjs"), str(page), str(tmp_path / "windows.json"), str(tmp_path / "out.json")],
        check=True,
        timeout=300,
    )
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["errors"] == [], "the page threw"
    assert set(out["widgets"]) == set(widgets), "every widget of the page mounted"
    return out["widgets"]


def largest_difference(browser: list, torch_logits: list) -> float:
    """The largest difference of any logit (the references are PyTorch's float64 pass, as the page computes)."""
    pairs = zip(browser, torch_logits, strict=True)
    return max(
        (torch.as_tensor(b, dtype=torch.float64) - torch.as_tensor(t, dtype=torch.float64)).abs().max().item()
        for b, t in pairs
    )


def check_widget(data: dict, reference: dict, out: dict) -> None:
    """The browser's forward pass equals PyTorch's on the random windows and in every state the keyboard left the
    widget in (replayed in PyTorch with the same edits), and it states the rule's answer as the library does."""
    assert largest_difference(out["logits"], reference["logits"]) <= 1e-8, f"{data['rule']}: 1,000 random windows"
    answers = [sorted(a) if isinstance(a, list) else a for a in out["allowed"]]
    assert answers == reference["allowed"], f"{data['rule']}: the page's rule differs from glassbox.rules"

    def pytorch(state: dict) -> torch.Tensor:
        edited = json.loads(json.dumps(data))
        edited["weights"]["W_E"], edited["weights"]["W_pos"] = state["W_E"], state["W_pos"]
        values = {int(p): v for p, v in state["pins"].items()}
        return widget.edited_logits(edited, state["tokens"], values)

    for scenario, state in zip(data["scenarios"], out["scenarios"], strict=True):
        assert state["tokens"] == scenario["window"]
        assert largest_difference(state["logits"], pytorch(state)) <= 1e-8
    assert out["typed"]["tokens"] == out["typedExpected"], "digits, + and 10 typed as 1 then 0"
    moved, placed, valued = out["draggedToken"], out["draggedPosition"], out["draggedValue"]
    assert moved["W_E"] != data["weights"]["W_E"] and moved["pins"] == {}, "the arrow keys moved token 2's embedding"
    changed = [p for p, (a, b) in enumerate(zip(placed["W_pos"], moved["W_pos"], strict=True)) if a != b]
    assert changed == [1] and placed["W_E"] == moved["W_E"], "then position 1's embedding, and only it"
    assert list(valued["pins"]) == ["0"], "then the value of position 0"
    for state in (moved, placed, valued):
        logits = pytorch(state)
        assert largest_difference(state["logits"], logits) <= 1e-8
        assert torch.tensor(state["logits"][-1]).argmax() == logits[-1].argmax(), "the same prediction"
    assert out["reset"]["W_E"] == out["typed"]["W_E"], "Reset restores the trained weights"
    if data["scenarios"]:
        assert out["reset"]["tokens"] == data["scenarios"][0]["window"]


def test_the_browser_computes_what_pytorch_computes_and_after_keyboard_edits(tmp_path, model):
    """Chapter 6's model and two of chapter 7's (lucky7; successor without its residual connection, which the page's
    forward pass must honour too), as three widgets on one page."""
    exports = {
        "glassbox-touch": widget.export(model, RULE),
        "glassbox-touch-lucky7": widget.export(widened("lucky7"), get_rule("lucky7")),
        "glassbox-touch-nores": widget.export(
            widened("lucky7_no_residual"), get_rule("lucky7"), setup="lucky7_no_residual"
        ),
    }
    references = {k: widget.reference_logits(data, n_windows=1000, seed=0) for k, data in exports.items()}
    outs = browser_run(tmp_path, {k: (data, references[k]["windows"]) for k, data in exports.items()})
    for key, data in exports.items():
        check_widget(data, references[key], outs[key])
    out, data = outs["glassbox-touch"], exports["glassbox-touch"]
    assert out["typed"]["tokens"] == RULE.encode("2 + 10 +")
    best = torch.tensor(out["reset"]["probs"][-1]).argmax().item()
    assert out["live"].startswith("After this + (position 7), the model predicts " + RULE.vocab[best] + " with 0.")
    assert outs["glassbox-touch-lucky7"]["typed"]["tokens"] == [2, 10, 3], "no + in lucky7: 2, then 10, then 3"


def test_every_rule_the_widget_states_agrees_with_the_library(tmp_path):
    """widget.js's RULES on random windows of each rule it knows, against glassbox.rules.definitions: one untrained
    widget per rule on one page (the rule's answer does not depend on the weights)."""
    exports, references = {}, {}
    for name in widget.WIDGET_RULES:
        rule = get_rule(name)
        data = widget.export(Transformer(get_setup(name).model_config(rule.d_vocab)), rule)
        exports[f"glassbox-touch-{name.replace('_', '-')}"] = data
        references[f"glassbox-touch-{name.replace('_', '-')}"] = widget.reference_logits(data, n_windows=400, seed=1)
    outs = browser_run(tmp_path, {k: (data, references[k]["windows"]) for k, data in exports.items()})
    for key, reference in references.items():
        answers = [sorted(a) if isinstance(a, list) else a for a in outs[key]["allowed"]]
        assert answers == reference["allowed"], f"{exports[key]['rule']}: the page's rule differs"
        assert any(a is not None for a in answers), f"{exports[key]['rule']}: the windows never reach the rule"


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
    extension.load_on_widget_pages(app, "ch08", "page.html", other, None)
    assert other["body"] == "<p>no widget</p>" and len(added) == 1
    lucky = get_rule("lucky7")
    two = "".join(  # chapter 7: two widgets, one script
        widget.touch(Transformer(get_setup(name).model_config(lucky.d_vocab)), lucky, f"w-{name}")._repr_html_()
        for name in ("lucky7", "lucky7_no_residual")
    )
    gallery = {"body": two}
    extension.load_on_widget_pages(app, "ch07", "page.html", gallery, None)
    assert "GlassBoxTouch" not in gallery["body"] and gallery["body"].count("glassbox-touch-model") == 2
    assert len(added) == 2, "the script once for the page"


def test_the_library_ships_the_script():
    with open(ROOT / "code" / "pyproject.toml", "rb") as f:
        package_data = tomllib.load(f)["tool"]["setuptools"]["package-data"]
    assert widget.SCRIPT.suffix == ".js" and "*.js" in package_data["glassbox.rules"], "Colab installs the wheel"


def test_another_planar_rule_exports_without_scenarios():
    rule = get_rule("copy_modulo")
    data = widget.export(Transformer(get_setup("copy_modulo").model_config(rule.d_vocab)), rule)
    assert data["scenarios"] == [] and data["plus"] is None and len(data["reference"]) == 4
    assert data["palette"] == list(widget.EVERY_TOKEN[: rule.d_vocab]), "every token its own region colour"


@pytest.mark.parametrize("name", ["lucky7", "successor"])
def test_chapter_7s_models_export_with_their_scenarios(name):
    """lucky7 and successor: scenarios whose descriptions say what the rule asks for (checked against the rule), a
    colour for every token's region, and the export built back into the same model."""
    rule, model = get_rule(name), widened(name)
    data = widget.export(model, rule)
    assert len(data["scenarios"]) >= 3 and data["setup"] == name and len(data["palette"]) == rule.d_vocab
    for scenario in data["scenarios"]:  # each says what the rule asks for there, as the rule says it
        allowed = rule.allowed(scenario["window"], len(scenario["window"]))
        if allowed is None:
            assert scenario["description"].endswith("leaves the next token free"), scenario
        else:
            assert scenario["description"].endswith(f"asks for {rule.vocab[min(allowed)]}") and len(allowed) == 1
    back = widget.model_from_export(data)
    for key, tensor in model.state_dict().items():
        assert torch.equal(back.state_dict()[key], tensor), key


def test_a_model_without_the_residual_exports_as_its_gallery_entry():
    rule = get_rule("lucky7")
    model = widened("lucky7_no_residual")
    data = widget.export(model, rule, setup="lucky7_no_residual")
    assert data["config"]["use_residual"] is False and data["setup"] == "lucky7_no_residual"
    assert torch.equal(
        widget.logits_of(widget.model_from_export(data), [[1, 2, 7]]), widget.logits_of(model, [[1, 2, 7]])
    )
    with pytest.raises(ValueError, match="not the gallery"):
        widget.model_from_export({**data, "setup": "lucky7"})
