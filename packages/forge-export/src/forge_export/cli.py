"""The ``forge-export`` command line: validate, inspect and describe exports."""

from __future__ import annotations

import click

from forge_export import __version__
from forge_export.cli_support import ForgeGroup


@click.group(cls=ForgeGroup)
@click.version_option(__version__, prog_name="forge-export")
def main() -> None:
    """Check and describe forge dataset exports (the HuggingFace folder format).

    \b
    Examples:
      forge-export validate out/         # contract + manifest + file hashes
      forge-export inspect out/ --json   # counts per config, split, target, source
      forge-export schema docs/schema/   # JSON Schema of every contract model
    """
