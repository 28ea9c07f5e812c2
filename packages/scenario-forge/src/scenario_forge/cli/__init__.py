"""The ``scenario-forge`` command line. Each command lives in its own module here."""

from __future__ import annotations

import click
from forge_export.cli_support import ForgeGroup

from scenario_forge import __version__


@click.group(cls=ForgeGroup)
@click.version_option(__version__, prog_name="scenario-forge")
def main() -> None:
    """Make, store, review and complete AI-safety evaluation scenarios, and export them.

    \b
    Quick start:
      scenario-forge init
      scenario-forge generate --target harmful_code --count 20
      scenario-forge complete --source template
      scenario-forge export out/
    """


# Commands: one module each, registered here (keep heavy imports inside the command functions).
