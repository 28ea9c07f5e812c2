"""Reading a taxonomy YAML file: bounded, with one-line errors (:class:`TaxonomyError`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from forge_export import ForgeError
from forge_export.errors import ContractError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


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


@dataclass(frozen=True)
class Located:
    """Where each top-level key of one merged YAML mapping came from (file and key prefix),
    so a validation error names the file that holds the bad value."""

    by_key: dict[str, str]
    prefixes: dict[str, str]
    default_file: str

    def file(self, key: Any) -> str:
        """The file that holds ``key``."""
        return self.by_key.get(str(key), self.default_file)

    def prefix(self, key: Any) -> str:
        """The key path ``key`` sits under in its file ("" at the top)."""
        default = next((v for v in self.prefixes.values() if v), "")
        return self.prefixes.get(str(key), default)

    def validate(
        self,
        model: type[M],
        raw: Any,
        describe: Callable[[ValidationError, Any, Any], TaxonomyError],
    ) -> M:
        """``raw`` as ``model``; an invalid value raises ``describe``'s one-line error."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise describe(exc, self.file, self.prefix) from None
