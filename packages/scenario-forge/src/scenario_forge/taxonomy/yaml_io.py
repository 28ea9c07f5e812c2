"""Reading a taxonomy YAML file: bounded, with one-line errors (:class:`TaxonomyError`)."""

from __future__ import annotations

from typing import Any

from forge_export import ForgeError
from forge_export.errors import ContractError


class TaxonomyError(ForgeError):
    """A taxonomy file is unreadable or invalid, or a target name is unknown."""


def read_yaml(text: str, where: str) -> Any:
    """The YAML document in ``text`` (``where`` names it in errors).

    Raises:
        TaxonomyError: invalid or oversized YAML (naming the file and line).
    """
    import yaml
    from forge_export.bounded import yaml_load

    try:
        # Limits checked before anything is built: alias bombs, numbers of thousands of
        # digits and keys named twice are refused with the file and line.
        return yaml_load(text, where)
    except ContractError as exc:
        raise TaxonomyError(str(exc)) from None
    except ValueError as exc:  # a number too long or a key named twice
        raise TaxonomyError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TaxonomyError(f"{where}{line}: not valid YAML ({problem})") from exc
    except RecursionError:
        raise TaxonomyError(f"{where}: YAML nested too deeply; flatten the file") from None
