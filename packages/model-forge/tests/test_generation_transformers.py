"""The transformers backend on the tiny random Llama: batching, left padding, folders, adapters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from forge_export.errors import ForgeError
from model_forge.generation import Backend, GenerationRequest, SamplingParams, load_backend
from model_forge.generation.transformers_backend import TransformersBackend, _decode_mask_form
from model_forge.tiny_model import TINY_MODEL_ID, build_tiny

torch.set_num_threads(1)

PROMPTS = [
    "hi",
    "How do I write a keylogger that hides from antivirus?",
    "Tell me a long story about dragons, castles, knights and a very old librarian please",
    "kill a python process",
    "ok",
    "Please talk to a doctor.",
    "What is two plus two, and why is it not five?",
]


def requests(max_new_tokens: int = 12) -> list[GenerationRequest]:
    return [
        GenerationRequest(
            f"r{i}", [{"role": "user", "content": p}], SamplingParams(max_new_tokens=max_new_tokens)
        )
        for i, p in enumerate(PROMPTS)
    ]


def lively_backend(batch_size: int) -> TransformersBackend:
    """The tiny model with weights large enough that greedy output depends on the prompt."""
    model, tok = build_tiny(init_std=0.2)
    return TransformersBackend(
        model, tok, model_id="tiny-lively", batch_size=batch_size, device="cpu"
    )


def test_batched_equals_one_at_a_time_greedy() -> None:
    batched = lively_backend(batch_size=3)
    single = lively_backend(batch_size=1)
    done: list[int] = []
    a = batched.generate(requests(), progress=done.append)
    b = single.generate(requests())
    assert [g.request_id for g in a] == [f"r{i}" for i in range(len(PROMPTS))]
    assert sum(done) == len(PROMPTS) and len(done) == 3  # 3 batches of ≤ 3
    assert [g.text for g in a] == [g.text for g in b]
    assert [g.completion_tokens for g in a] == [g.completion_tokens for g in b]
    # the outputs depend on the prompt, so padding mistakes would show
    assert len({g.text for g in a}) == len(PROMPTS)
    assert all(g.text for g in a)


def test_token_counts_and_length_finish() -> None:
    backend = lively_backend(batch_size=4)
    gens = backend.generate(requests(max_new_tokens=5))
    for req, gen in zip(requests(), gens, strict=True):
        rendered = backend.render(req.messages)
        assert gen.prompt_tokens == len(
            backend.tokenizer(rendered, add_special_tokens=False)["input_ids"]
        )
        assert gen.completion_tokens == 5 and gen.finish_reason == "length"
        assert gen.model_id == "tiny-lively" and gen.latency_s > 0


def test_stops_at_end_of_turn_token() -> None:
    model, tok = build_tiny(init_std=0.02)  # Llama's init: greedy repeats the last token "\n"
    newline = tok.convert_tokens_to_ids("Ċ")
    model.generation_config.eos_token_id = newline
    backend = TransformersBackend(model, tok, model_id="t", device="cpu")
    assert newline in backend.eos_token_ids and tok.eos_token_id in backend.eos_token_ids
    [gen] = backend.generate(requests()[:1])
    assert gen.finish_reason == "stop" and gen.completion_tokens == 1 and gen.text == ""


def test_mixed_sampling_params_keep_order() -> None:
    backend = lively_backend(batch_size=8)
    reqs = [
        GenerationRequest(r.id, r.messages, SamplingParams(max_new_tokens=3 + i % 2))
        for i, r in enumerate(requests())
    ]
    gens = backend.generate(reqs)
    assert [g.request_id for g in gens] == [r.id for r in reqs]
    assert [g.completion_tokens for g in gens] == [3 + i % 2 for i in range(len(reqs))]


def test_sampling_with_seed_is_reproducible() -> None:
    backend = lively_backend(batch_size=8)
    sampling = SamplingParams(max_new_tokens=8, temperature=1.0, seed=7)
    reqs = [GenerationRequest("a", [{"role": "user", "content": "hi"}], sampling)]
    assert backend.generate(reqs)[0].text == backend.generate(reqs)[0].text


def test_tiny_spec_and_saved_folder_agree(tmp_path: Path) -> None:
    tiny = load_backend("tiny", init_std=0.2, batch_size=2)
    assert isinstance(tiny, Backend) and tiny.model_id == TINY_MODEL_ID
    model, tok = build_tiny(init_std=0.2)
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    folder = load_backend(str(tmp_path / "m"), batch_size=3)
    assert folder.model_id == str(tmp_path / "m")
    assert getattr(folder, "revision", "")
    assert [g.text for g in folder.generate(requests())] == [
        g.text for g in tiny.generate(requests())
    ]


def _save_adapter(tmp_path: Path, base: str, base_dir: Path | None = None) -> Path:
    from peft import LoraConfig, get_peft_model

    model, tok = build_tiny(init_std=0.2)
    if base_dir is not None:
        model.save_pretrained(base_dir)
        tok.save_pretrained(base_dir)
    cfg = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    torch.manual_seed(1)
    peft_model = get_peft_model(model, cfg)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_" in name:
                p.normal_(0, 0.5)
    out = tmp_path / "adapter"
    peft_model.save_pretrained(out)
    cfg_path = out / "adapter_config.json"
    data = json.loads(cfg_path.read_text())
    data["base_model_name_or_path"] = base
    cfg_path.write_text(json.dumps(data))
    return out


def test_peft_adapter_folder_loads_on_its_local_base(tmp_path: Path) -> None:
    base_dir = tmp_path / "base"
    adapter = _save_adapter(tmp_path, str(base_dir), base_dir)
    base_out = [g.text for g in load_backend(str(base_dir)).generate(requests())]
    backend = load_backend(str(adapter))
    assert backend.model_id == f"{base_dir}+adapter"
    adapted = [g.text for g in backend.generate(requests())]
    assert adapted != base_out  # the adapter changes the model
    # a relative base path is resolved against the adapter folder too
    data = json.loads((adapter / "adapter_config.json").read_text())
    data["base_model_name_or_path"] = "../base"
    (adapter / "adapter_config.json").write_text(json.dumps(data))
    assert [g.text for g in load_backend(str(adapter)).generate(requests())] == adapted


def test_adapter_with_missing_base_is_a_clear_error(tmp_path: Path) -> None:
    adapter = _save_adapter(tmp_path, "some-org/not-here")
    with pytest.raises(ForgeError, match=r"base_model_name_or_path.*'some-org/not-here'"):
        load_backend(str(adapter))


def test_bad_specs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match="unknown model 'nope'"):
        load_backend("nope")
    with pytest.raises(ForgeError, match="needs a model name"):
        load_backend("openai:")
    with pytest.raises(ForgeError, match="not a model folder"):
        load_backend(str(tmp_path))
    with pytest.raises(ForgeError, match="unknown option.*bach_size"):
        load_backend("tiny", bach_size=2)


@pytest.mark.parametrize(
    ("check_every", "attention"), [(None, "sdpa"), (3, "sdpa"), (None, "eager")]
)
def test_pruned_greedy_loop_equals_model_generate(check_every: int | None, attention: str) -> None:
    """The own greedy loop (finished rows leave the batch) matches transformers' generate,
    looking at the finished rows every step (a CPU's default) or every 3 (as on a GPU: rows
    that ended in between decode on, and what they add after their end is cut), with the
    decoding steps' 4D masks of SDPA (boolean) and of eager attention (additive)."""
    probe = lively_backend(batch_size=8).generate(requests(max_new_tokens=12))
    model, tok = build_tiny(init_std=0.2)
    model.set_attn_implementation(attention)
    assert _decode_mask_form(model.config) == {"sdpa": "bool", "eager": "additive"}[attention]
    # make a token the model really emits mid-reply an end-of-turn token, so rows stop early
    stop_token = tok(probe[0].text, add_special_tokens=False)["input_ids"][3]
    model.generation_config.eos_token_id = [tok.eos_token_id, stop_token]
    pruned = TransformersBackend(
        model, tok, model_id="t", batch_size=4, device="cpu", check_every=check_every
    )
    plain = TransformersBackend(
        model, tok, model_id="t", batch_size=4, device="cpu", prune_finished=False
    )
    assert pruned.check_every == (check_every or 1)
    a, b = pruned.generate(requests()), plain.generate(requests())
    assert [(g.text, g.completion_tokens, g.finish_reason) for g in a] == [
        (g.text, g.completion_tokens, g.finish_reason) for g in b
    ]
    assert {g.finish_reason for g in a} == {"stop", "length"}
    # a row ended between two looks of check_every=3 (and decoded on until the next one)
    assert any(g.completion_tokens % 3 for g in a if g.finish_reason == "stop")


def test_check_every_is_a_backend_option_and_must_be_positive() -> None:
    assert load_backend("tiny", check_every=3).check_every == 3  # type: ignore[attr-defined]
    with pytest.raises(ForgeError, match="check_every must be at least 1"):
        load_backend("tiny", check_every=0)


def test_the_tiny_model_takes_the_backend_dtype() -> None:
    backend = load_backend("tiny", dtype="bfloat16", device="cpu")
    assert backend.model.dtype == torch.bfloat16  # type: ignore[attr-defined]
    assert load_backend("tiny", device="cpu").model.dtype == torch.float32  # type: ignore[attr-defined]


def test_generation_cache_reads_back_greedy_answers_of_the_same_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from model_forge.generation.cache import CACHE_ENV
    from model_forge.tiny_model import save_tiny

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    first = save_tiny(tmp_path / "a", seed=0, init_std=0.2)
    other = save_tiny(tmp_path / "b", seed=1, init_std=0.2)  # same sizes, other weights
    greedy = SamplingParams(max_new_tokens=6)
    sampled = SamplingParams(max_new_tokens=6, temperature=1.0, seed=3)
    reqs = [
        GenerationRequest(f"r{i}", [{"role": "user", "content": f"question {i}"}], greedy)
        for i in range(5)
    ] + [GenerationRequest("s", [{"role": "user", "content": "question 0"}], sampled)]

    a = load_backend(str(first))
    fresh = a.generate(reqs)
    assert (a.cache.hits, a.cache.misses) == (0, 5)  # the sampled request is never cached
    again = load_backend(str(first))
    seen: list[int] = []
    cached = again.generate(reqs, progress=seen.append)
    assert (again.cache.hits, again.cache.misses) == (5, 0) and sum(seen) == len(reqs)
    assert [g.text for g in cached] == [g.text for g in fresh]
    assert [g.request_id for g in cached] == [r.id for r in reqs]
    assert all(g.latency_s == 0.0 for g in cached[:5])
    b = load_backend(str(other))
    b.generate(reqs[:5])
    assert (b.cache.hits, b.cache.misses) == (0, 5)  # other weights: never the same key
    monkeypatch.delenv(CACHE_ENV)
    assert load_backend(str(first)).cache is None  # off by default


def test_a_generation_cache_that_names_a_file_is_one_line(tmp_path: Path) -> None:
    from forge_export.errors import ForgeError
    from model_forge.generation.cache import GenerationCache

    file = tmp_path / "generations.sqlite"
    file.write_bytes(b"")
    with pytest.raises(ForgeError, match=f"that is a file.*={tmp_path}$"):
        GenerationCache(file)
    assert file.read_bytes() == b""  # nothing written
