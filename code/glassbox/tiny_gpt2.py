"""A tiny GPT-2 in Hugging Face's format, saved with `save_pretrained`: where the hub cannot be reached, chapter 4
loads it by the very code that loads GPT-2 small (`from_pretrained` on a folder), and the tests do the same.

Two layers, random weights (so its text is noise: the loss of a uniform guess) and a byte-level BPE tokenizer
trained on the spot, as GPT-2's is byte-level.
"""

from __future__ import annotations

from pathlib import Path

import torch

TOKENIZER_TEXT = [
    "The capital of France is Paris. The capital of Italy is Rome. A transformer reads the tokens of a sentence, "
    "and at every position it predicts the token that comes next."
] * 10


def save_tiny_gpt2(folder: Path | str, seed: int = 0) -> Path:
    """Save a 2-layer GPT-2 (random weights, LayerNorms and biases made non-trivial) and its tokenizer in `folder`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    from transformers.utils import logging

    logging.set_verbosity_error()
    folder = Path(folder)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(TOKENIZER_TEXT, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>"
    )
    tokenizer.save_pretrained(folder)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=2, n_head=4, bos_token_id=0, eos_token_id=0
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():  # larger LayerNorm and bias values, so that loading them is really tested
        for name, param in model.named_parameters():
            if "ln" in name or "bias" in name:
                param.add_(0.3 * torch.randn(param.shape))
    torch.random.set_rng_state(generator_state)
    model.save_pretrained(folder)
    return folder
