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
from scenario_forge.cli.complete import complete_cmd  # noqa: E402
from scenario_forge.cli.export import export_cmd  # noqa: E402
from scenario_forge.cli.export_inspect import export_inspect_cmd  # noqa: E402
from scenario_forge.cli.generate import generate_cmd  # noqa: E402
from scenario_forge.cli.importing import import_cmd  # noqa: E402
from scenario_forge.cli.init import init_cmd  # noqa: E402
from scenario_forge.cli.listing import list_cmd  # noqa: E402
from scenario_forge.cli.show import show_cmd  # noqa: E402
from scenario_forge.cli.stats import stats_cmd  # noqa: E402
from scenario_forge.cli.targets import targets_cmd  # noqa: E402

for _cmd in (
    init_cmd,
    targets_cmd,
    generate_cmd,
    import_cmd,
    list_cmd,
    show_cmd,
    complete_cmd,
    stats_cmd,
    export_cmd,
    export_inspect_cmd,
):
    main.add_command(_cmd)
from scenario_forge.cli.import_report import import_report_cmd  # noqa: E402
from scenario_forge.cli.review import review_cmd  # noqa: E402

main.add_command(import_report_cmd)
main.add_command(review_cmd)
from scenario_forge.cli.backup import backup_cmd  # noqa: E402
from scenario_forge.cli.check import check_cmd  # noqa: E402

main.add_command(check_cmd)
main.add_command(backup_cmd)
from scenario_forge.cli.eval_verdicts import eval_verdicts_cmd  # noqa: E402

main.add_command(eval_verdicts_cmd)
from scenario_forge.cli.transforms import transforms_cmd  # noqa: E402

main.add_command(transforms_cmd)
from scenario_forge.cli.migrate import migrate_cmd  # noqa: E402
from scenario_forge.cli.migrate_store import migrate_store_cmd  # noqa: E402

main.add_command(migrate_cmd)
main.add_command(migrate_store_cmd)
from scenario_forge.cli.serve import serve_cmd  # noqa: E402
from scenario_forge.cli.users import users_cmd  # noqa: E402

main.add_command(serve_cmd)
main.add_command(users_cmd)
