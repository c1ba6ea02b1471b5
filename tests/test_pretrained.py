"""GPT-2 loading (glassbox.pretrained) and chapter 12's figures and widget.

No hub is reachable here, so the online path runs on a tiny GPT-2 saved with `save_pretrained` (weights, config and
a byte-level BPE tokenizer trained on the spot): the same `boot_transformers` code that loads
openai-community/gpt2. The offline decisions are timed: each must come back within 5 s with a reason.
"""

import importlib.util
import socket
import threading
import time
from pathlib import Path

import pytest
import torch
from figure_content import assert_shows_something, bar_lengths, images, panels
from glassbox import parameters, pretrained
from glassbox.model import Transformer
from glassbox.plots import gpt2 as plots
from glassbox.plots.core import MIN_POINTS, clipped_text, smallest_text
from glassbox.pretrained import GPT2Unavailable, find_gpt2, load_gpt2

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "The capital of France is"


def save_tiny_gpt2(folder: Path, seed: int = 0) -> Path:
    """A 2-layer GPT-2 with a byte-level BPE tokenizer, saved as Hugging Face saves openai-community/gpt2."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(["The capital of France is Paris. The capital of Italy is Rome."] * 10, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>"
    )
    tokenizer.save_pretrained(folder)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=2, n_head=4, bos_token_id=0, eos_token_id=0
    )
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():  # larger LayerNorm and bias values, so folding them is really tested
        for name, param in model.named_parameters():
            if "ln" in name or "bias" in name:
                param.add_(0.3 * torch.randn(param.shape))
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory) -> Path:
    return save_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)


# ------------------------------------------------------------------------------------------- deciding up front
def test_offline_without_a_cached_copy_says_why_within_5_seconds(offline, tmp_path):
    start = time.perf_counter()
    source = find_gpt2(cache_dir=tmp_path)
    with pytest.raises(GPT2Unavailable, match="HF_HUB_OFFLINE is set and openai-community/gpt2 is not in the"):
        load_gpt2(cache_dir=tmp_path)
    assert time.perf_counter() - start < 5
    assert not source.available and "HF_HUB_OFFLINE" in source.reason


def test_a_hub_that_never_answers_costs_the_timeout_not_minutes(online, monkeypatch, tmp_path):
    silent = socket.socket()  # accepts connections and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
    try:
        start = time.perf_counter()
        source = find_gpt2("nobody/nothing", cache_dir=tmp_path, timeout=1.0)
        elapsed = time.perf_counter() - start
    finally:
        silent.close()
    assert not source.available and elapsed < 2.5
    assert "nobody/nothing is not in the Hugging Face cache" in source.reason


def test_an_unreachable_hub_is_a_reason_too(online, monkeypatch, tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the connection is refused
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    start = time.perf_counter()
    with pytest.raises(GPT2Unavailable, match="cannot reach http://127.0.0.1"):
        load_gpt2(model_name="nobody/nothing", cache_dir=tmp_path, timeout=2.0)
    assert time.perf_counter() - start < 5


def test_a_hub_that_answers_is_chosen(online, monkeypatch, tmp_path):
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Hub(BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    try:
        source = find_gpt2("someone/model", cache_dir=tmp_path)
    finally:
        server.shutdown()
    assert source.available and source.where == "Hugging Face hub" and source.path == "someone/model"


def test_an_incomplete_folder_is_refused_with_what_is_missing(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    source = find_gpt2(str(tmp_path))
    assert not source.available and "no weights" in source.reason


def test_a_bad_timeout_is_a_value_error():
    with pytest.raises(ValueError, match="timeout must be positive"):
        find_gpt2(timeout=0.0)


def fake_hub_cache(cache: Path, repo_id: str, files_from: Path) -> Path:
    """The layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<commit>/<files>}."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for file in files_from.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    return snapshot


def test_a_cached_copy_is_used_offline(offline, tiny_gpt2, tmp_path):
    snapshot = fake_hub_cache(tmp_path, "openai-community/gpt2", tiny_gpt2)
    source = find_gpt2(cache_dir=tmp_path)
    assert source.available and source.where == "Hugging Face cache" and Path(source.path) == snapshot
    bridge = load_gpt2(device="cpu", cache_dir=tmp_path)
    assert bridge.cfg.n_layers == 2


# ------------------------------------------------------------------------ the online path, on a local GPT-2
def test_load_gpt2_boots_a_compatibility_mode_bridge_with_the_models_probabilities(offline, tiny_gpt2):
    from transformers import GPT2LMHeadModel

    bridge = load_gpt2(device="cpu", model_name=str(tiny_gpt2))
    assert bridge.compatibility_mode and not bridge.training
    tokens = bridge.to_tokens(PROMPT)
    assert tokens[0, 0] == bridge.tokenizer.bos_token_id  # TransformerLens prepends BOS
    hf = GPT2LMHeadModel.from_pretrained(tiny_gpt2, attn_implementation="eager").eval()
    with torch.no_grad():
        expected = hf(tokens).logits.log_softmax(-1)
        got = bridge(tokens).log_softmax(-1)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)  # folding LayerNorm keeps the probabilities


@pytest.mark.parametrize("compatibility_mode", [False, True], ids=["raw weights", "compatibility mode"])
def test_our_model_loads_gpt2_format_weights_and_matches_the_bridge(offline, tiny_gpt2, compatibility_mode):
    bridge = load_gpt2(device="cpu", model_name=str(tiny_gpt2), compatibility_mode=compatibility_mode)
    ours = Transformer.from_transformer_lens(bridge)
    tokens = bridge.to_tokens(["The capital of France is", "Rome is the capital of Italy"])
    with torch.no_grad():
        torch.testing.assert_close(ours(tokens), bridge(tokens), atol=1e-4, rtol=0)
        _, our_cache = ours.run_with_cache(tokens)
        _, their_cache = bridge.run_with_cache(tokens)
    for name in ("blocks.1.attn.hook_pattern", "blocks.0.hook_resid_post", "blocks.1.hook_mlp_out"):
        torch.testing.assert_close(our_cache[name], their_cache[name], atol=1e-4, rtol=0)


def test_the_chapter_model_is_gpt2_when_it_can_be_loaded(offline, tiny_gpt2):
    loaded = pretrained.load_chapter_model(device="cpu", model_name=str(tiny_gpt2))
    assert loaded.is_gpt2 and loaded.notice is None and "folder" in loaded.reason
    assert 'class="admonition note"' in loaded._repr_html_()
    assert loaded.to_str_tokens(PROMPT)[0] == "<|endoftext|>" and "".join(loaded.to_str_tokens(PROMPT)[1:]) == PROMPT
    from transformers import GPT2LMHeadModel

    assert loaded.n_params == GPT2LMHeadModel.from_pretrained(tiny_gpt2).num_parameters()  # tied W_U counted once
    with pytest.raises(ValueError, match="non-empty string"):
        loaded.to_tokens("")


def test_chapter_12s_exercises_on_a_gpt2_bridge(offline, tiny_gpt2):
    """Exercises 12.3 and 12.4 as the online page runs them: on a GPT-2's cache (BOS first), the reference induction
    score equals the figure's diagonal_score and lies in [0, 1]; the logit difference
    of the indirect-object prompt equals the two logits read by hand, and a log-softmax gives the same number."""
    from glassbox.analysis.attention import diagonal_score
    from glassbox_solutions.ch12_gpt2 import logit_difference, repeated_induction_scores

    bridge = load_gpt2(device="cpu", model_name=str(tiny_gpt2))
    half = 6
    random_tokens = torch.randint(0, bridge.cfg.d_vocab, (3, half), generator=torch.Generator().manual_seed(1))
    bos = torch.full((3, 1), bridge.tokenizer.bos_token_id)
    with torch.no_grad():
        _, cache = bridge.run_with_cache(torch.cat([bos, random_tokens, random_tokens], dim=1))
    patterns = torch.stack([cache["pattern", layer] for layer in range(bridge.cfg.n_layers)])
    scores = repeated_induction_scores(patterns, half, n_prefix=1)
    assert scores.shape == (bridge.cfg.n_layers, bridge.cfg.n_heads) and 0 <= scores.min() <= scores.max() <= 1
    torch.testing.assert_close(scores, diagonal_score(patterns, half - 1, 1 + half))
    tokens = bridge.to_tokens("When Mary and John went to the store, John gave a drink to")
    answers = torch.tensor([[bridge.to_tokens(" Mary")[0, -1], bridge.to_tokens(" John")[0, -1]]])
    with torch.no_grad():
        logits = bridge(tokens)
    expected = logits[0, -1, answers[0, 0]] - logits[0, -1, answers[0, 1]]
    torch.testing.assert_close(logit_difference(logits, answers), expected)
    torch.testing.assert_close(logit_difference(logits.log_softmax(-1), answers), expected, atol=1e-4, rtol=0)


def test_the_chapter_model_falls_back_to_chapter_5s_model_with_the_notice(offline, monkeypatch, tmp_path):
    from glassbox import zoo
    from glassbox.config import TransformerConfig
    from glassbox.data import CharTokenizer

    tokenizer = CharTokenizer.from_text(PROMPT)
    small = Transformer(TransformerConfig(d_model=16, n_layers=1, n_heads=2, d_vocab=tokenizer.d_vocab, n_ctx=32))
    monkeypatch.setattr(zoo, "char_model", lambda: (small, tokenizer))  # no minute of training in the tests
    start = time.perf_counter()
    loaded = pretrained.load_chapter_model(model_name="nobody/nothing")
    assert time.perf_counter() - start < 5
    assert not loaded.is_gpt2 and loaded.model is small and "HF_HUB_OFFLINE" in loaded.reason
    assert loaded.n_params == sum(p.numel() for p in small.parameters())
    assert loaded.notice.startswith("GPT-2's weights could not be loaded where this chapter ran")
    assert loaded.to_str_tokens(PROMPT) == list(PROMPT)
    assert 'class="admonition warning"' in loaded._repr_html_() and loaded.notice in loaded._repr_html_()


# ------------------------------------------------------------------------------------- parameter accounting
def test_gpt2_small_shapes_are_gpt2_smalls():
    from transformers import GPT2Config, GPT2LMHeadModel

    with torch.device("meta"):
        hf = GPT2LMHeadModel(GPT2Config())
    counts = parameters.counts_by_kind(parameters.gpt2_small_shapes())
    n_vocab, d_model = 50257, 768
    assert counts["unembedding"] == n_vocab * d_model + n_vocab  # W_U and b_U, tied away in GPT-2's file
    assert sum(counts.values()) - counts["unembedding"] == sum(p.numel() for p in hf.parameters()) == 124_439_808


def test_component_kind_rejects_other_names():
    with pytest.raises(ValueError, match="not a TransformerLens parameter name"):
        parameters.component_kind("transformer.h.0.attn.c_attn.weight")


# -------------------------------------------------------------------------------------- figures and widget
def renders(fig) -> bool:
    """A figure that draws data, a PNG, light, with no text under 8 pt on the page and none cut off at the edge."""
    assert_shows_something(fig)
    png = fig._repr_png_()
    points, text = smallest_text(fig)
    assert points >= MIN_POINTS, f"{text!r} is {points:.1f} pt on the page"
    assert not clipped_text(fig), f"cut off at the figure's edge: {clipped_text(fig)}"
    return png.startswith(b"\x89PNG") and len(png) < 300_000


@pytest.mark.slow
def test_chapter_12_figures_render():
    pattern = torch.rand(4, 6, 6).tril().softmax(-1)
    probabilities = torch.linspace(0.3, 0.01, 10)
    fig = plots.next_token_bars(list("abcdefghij"), probabilities)
    assert renders(fig)
    assert sorted(bar_lengths(panels(fig)[0])) == pytest.approx(sorted(probabilities.tolist()))
    fig = plots.head_pattern(pattern[0], list("abcdef"), title="head")
    assert renders(fig)
    torch.testing.assert_close(torch.as_tensor(images(fig)[0]).float(), pattern[0])
    assert renders(plots.residual_geometry({"last": torch.rand(4) + 1}, torch.eye(4), ["embed", "0", "1", "2"]))
    assert renders(plots.attention_vs_mlp(torch.rand(3), torch.rand(3)))
    assert renders(plots.logit_lens(torch.rand(3, 4), [["x"] * 4] * 3, ["embed", "0", "1"], list("abcd")))
    assert renders(plots.entropy_by_head({"a": torch.rand(2, 4), "b": torch.rand(2, 12)}))
    assert renders(plots.parameters_by_kind({"a": {"x": 1, "y": 2}, "b": {"x": 3, "y": 1}}))
    # GPT-2 small's sizes: 13 residual snapshots, 12 heads, a 15-token prompt, top tokens of several characters
    layers, words = ["embed", *map(str, range(12))], [f" word{i}" for i in range(15)]
    assert renders(plots.logit_lens(torch.rand(13, 15), [[" Paris,"] * 15] * 13, layers, words))
    assert renders(plots.head_pattern(torch.rand(20, 20).tril().softmax(-1), words + list("abcde"), title="L5H1"))
    assert renders(plots.entropy_by_head({"GPT-2 small": torch.rand(12, 12), "chapter 5's model": torch.rand(2, 4)}))
    assert renders(plots.residual_geometry({"last": torch.rand(13) + 1}, torch.eye(13), layers))
    with pytest.raises(ValueError, match="token labels"):
        plots.next_token_bars(["a"], torch.rand(2))


def test_the_attention_widget_is_light_deterministic_and_loads_the_bundle_once():
    pattern = torch.rand(12, 20, 20).tril()
    pattern = pattern / pattern.sum(-1, keepdim=True)
    tokens = [f"tok{i}" for i in range(19)] + ["</script>"]
    html = plots.attention_heads_widget(pattern, tokens)._repr_html_()
    assert len(html.encode()) < 100_000  # circuitsvis inline: about 1.3 MB
    assert "var CircuitsVis" not in html and 'class="glassbox-circuitsvis"' in html
    assert html.count("</script>") == 1  # a token cannot close the script early
    assert html == plots.attention_heads_widget(pattern, tokens)._repr_html_()
    with pytest.raises(ValueError, match="pattern must be"):
        plots.attention_heads_widget(pattern, tokens[:-1])


def load_extension():
    spec = importlib.util.spec_from_file_location("glassbox_circuitsvis", ROOT / "book/_ext/glassbox_circuitsvis.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sphinx_extension_writes_the_bundle_and_adds_it_only_where_a_widget_is(tmp_path):
    ext = load_extension()

    class App:
        outdir = tmp_path
        builder = type("Builder", (), {"format": "html"})()
        added: list[str] = []

        def add_js_file(self, name):
            self.added.append(name)

    app = App()
    ext.write_bundle(app)
    bundle = tmp_path / "_static" / ext.bundle_name()
    assert bundle.stat().st_size > 1_000_000 and "sourceMappingURL" not in bundle.read_text()[-200:]
    widget = plots.attention_heads_widget(torch.eye(5)[None].repeat(12, 1, 1), list("abcde"))._repr_html_()
    ext.load_on_widget_pages(app, "book/part5/ch12_gpt2", "page.html", {"body": widget}, None)
    ext.load_on_widget_pages(app, "book/part1/ch01_attention", "page.html", {"body": "<p>no widget</p>"}, None)
    assert app.added == [ext.bundle_name()]


def glued(notebook) -> dict[str, str]:
    """The values a notebook glued, by name, as their plain-text representations."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            if scrap:
                data = output["data"]  # glue records its value under a papermill mime type ending in text/plain
                values[scrap["name"]] = next((v for k, v in data.items() if k.endswith("text/plain")), "")
    return values


@pytest.mark.slow
def test_chapter_12_runs_end_to_end_on_a_gpt2(offline, tiny_gpt2, monkeypatch):
    """Every GPT-2-only branch of chapter 12 runs here, on the tiny GPT-2 in a folder, as the website's build runs
    them on GPT-2 small: the chapter executes without an error and its page says it shows a GPT-2."""
    import jupytext
    from glassbox_build.book import toc_chapters
    from nbclient import NotebookClient

    monkeypatch.setenv("GLASSBOX_GPT2", str(tiny_gpt2))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    chapter = next(c for c in toc_chapters() if c.stem.startswith("ch12"))
    notebook = jupytext.read(chapter)
    # a cell may train chapter 5's model first: the session's model cache starts empty (conftest.py), and on a shared
    # machine that took over 300 s
    NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": chapter.parent}}
    ).execute()
    values = glued(notebook)
    assert values["model_name"] == repr(tiny_gpt2.name), f"chapter 12 ran on {values['model_name']}, not the GPT-2"
    assert "Paris" in values["paris_sentence"] and "GPT-2's weights run in our own" in values["weights_sentence"]
    assert "GPT-2's first" in values["entropy_sentence"], "the GPT-2 entropy panel was not computed"
    assert values["bridge_name"] == repr(tiny_gpt2.name), "the hooks must be compared with the GPT-2 bridge"
    assert "Mary" in values["ioi_io"] or "Paris" in values["ioi_io"], (
        f"the demo used {values['ioi_io']}, not GPT-2's names"
    )
    assert values["rep_heads"].startswith("'L"), "the induction scores were not computed"


def test_gpt2s_own_checkpoint_loads_into_the_readers_assembled_model_to_1e_4(tiny_gpt2):
    """Chapter 4: GPT-2's Hugging Face checkpoint, renamed by `gpt2_weights`, into `DemoTransformer` (built from
    chapter 3's clear solutions) and into `Transformer`: GPT-2's logits, to 1e-4."""
    from glassbox.model import DemoTransformer
    from glassbox.tl_bridge import config_from_gpt2, gpt2_weights, load_tl_parameters
    from glassbox_solutions import ch03_components
    from transformers import GPT2LMHeadModel

    hf = GPT2LMHeadModel.from_pretrained(tiny_gpt2).eval()
    cfg = config_from_gpt2(hf.config)
    tokens = torch.randint(0, cfg.d_vocab, (2, 20), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = hf(tokens).logits
        for model in (DemoTransformer(cfg, parts=ch03_components), Transformer(cfg)):
            load_tl_parameters(model, gpt2_weights(hf.state_dict(), cfg))
            torch.testing.assert_close(model.eval()(tokens), expected, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="gelu_new"):
        config_from_gpt2(type(hf.config)(activation_function="relu"))
