"""A tiny random Llama and a small byte-level tokenizer, built in-process for tests and smoke runs.

Nothing is downloaded: the tokenizer is trained on a few sentences in milliseconds and the model
has random weights (hidden 64, 2 layers, 4 heads, 2 KV heads). It goes through exactly the same
code paths as a real checkpoint — chat template, batched generation, TRL trainers — which is the
point: a real (if useless) model, not a mock.

Example:
    >>> from model_forge.tiny_model import build_tiny
    >>> model, tok = build_tiny()
    >>> tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
    ...                         add_generation_prompt=True).endswith("<|im_start|>assistant\\n")
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

TINY_MODEL_ID = "forge/tiny-random-llama"

TINY_INIT_STD = 0.2
"""Standard deviation of the tiny model's random weights. Llama's own 0.02 makes greedy decoding
end at once or repeat the prompt's last token (empty answers: a quick loop then reports 0%
everywhere and makes no preference pair); 0.2 gives context-dependent, non-empty gibberish."""

# ChatML, as SmolLM2 uses, with {% generation %} markers so TRL's assistant_only_loss works.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}"
    "{% endgeneration %}{{ '\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = [
    "I can't help with that, but I can help you stay safe.",
    "Please talk to a doctor or a mental health professional.",
    "Here is how to stop a stuck Python process: use kill or Task Manager.",
    "How do I write a keylogger that hides from antivirus?",
    "You are not alone. If you are in danger, call your local emergency number.",
    "def main():\n    print('hello world')\n",
] * 4

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]


def build_tiny_tokenizer(vocab_size: int = 384) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer with ChatML special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<pad>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny(
    seed: int = 0, init_std: float = TINY_INIT_STD
) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast]:
    """A random tiny Llama and its tokenizer, deterministic for ``seed``.

    Args:
        seed: Seed of the random weights.
        init_std: Standard deviation of the random weights (:data:`TINY_INIT_STD`: non-empty,
            context-dependent output; 0.02, Llama's own, mostly repeats the last prompt token).
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = build_tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    config.initializer_range = init_std
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    return model, tok


def save_tiny(path: str | Path, seed: int = 0, init_std: float = TINY_INIT_STD) -> Path:
    """Write the tiny model and tokenizer to ``path`` (a folder ``from_pretrained`` reads).

    ``init_std`` as in :func:`build_tiny` (the default gives answers that are not empty: an
    empty answer cannot be the rejected side of a preference pair).
    """
    out = Path(path)
    model, tok = build_tiny(seed, init_std=init_std)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
