"""The evaluation report on disk: read it, compare two, and the export it was made from.

The contract type :class:`~forge_export.models.EvalReport` is written by ``model-forge
evaluate``; scenario-forge (``import-report``, ``eval-verdicts``) and model-forge (``compare``,
the loop) read it with :func:`read_report`, the one reader, which validates the schema version
and every field. :func:`export_fingerprint` is the fingerprint of an export's manifest, which
reports and training metrics record.

Example:
    >>> from forge_export.reports import compare_reports, read_report  # doctest: +SKIP
    >>> table = compare_reports(read_report("base/report.json"), read_report("tuned/report.json"))
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from forge_export.bounded import json_loads
from forge_export.errors import ContractError, describe_validation_error
from forge_export.models import SCHEMA_VERSION, EvalReport, TargetSummary, check_schema_version

__all__ = [
    "COMPARE_METRICS",
    "COUNT_FIELDS",
    "PairedTest",
    "compare_reports",
    "paired_test",
    "export_fingerprint",
    "format_comparison",
    "read_report",
    "summary_rows",
]


def read_report(path: str | Path) -> EvalReport:
    """Read and validate an ``EvalReport`` JSON file (as written by ``model-forge evaluate``).

    The one reader of the contract's report: ``scenario-forge import-report`` and
    ``eval-verdicts``, ``model-forge compare`` and the loop all read reports here.

    Raises:
        ContractError: not UTF-8 / not JSON / not an object, another schema major version, or
            a field that breaks the contract (named, with the fix).
    """
    p = Path(path)
    where = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError("not a UTF-8 text file; give a report.json", where=where) from exc
    try:
        raw = json_loads(text)  # numbers of thousands of digits and duplicate keys refused
    except json.JSONDecodeError as exc:
        raise ContractError(
            f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); give the report.json "
            "written by 'model-forge evaluate'",
            where=where,
        ) from exc
    except RecursionError:
        raise ContractError("JSON nested too deeply; not an EvalReport", where=where) from None
    except ValueError as exc:  # NumberTooLong, DuplicateKey
        raise ContractError(f"{exc}; not an EvalReport written by forge", where=where) from None
    if not isinstance(raw, dict):
        raise ContractError("expected a JSON object (an EvalReport)", where=where)
    if "schema_version" not in raw:
        raise ContractError(
            f"missing; an EvalReport of this forge has schema_version {SCHEMA_VERSION!r}",
            where=where,
            field="schema_version",
        )
    check_schema_version(str(raw["schema_version"]), where)
    try:
        report = EvalReport.model_validate(raw)
        report.model_dump_json()  # the store writes its scenarios: too deep metadata fails here
        return report
    except ValidationError as exc:
        raise describe_validation_error(exc, where) from exc
    except (ValueError, RecursionError):
        raise ContractError("nested too deeply to store; flatten 'metadata'", where=where) from None


def export_fingerprint(export: str | Path) -> str:
    """The ``fingerprint`` of an export's ``manifest.json`` (empty when it has none)."""
    try:
        manifest = json.loads((Path(export) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(manifest.get("fingerprint", ""))


COMPARE_METRICS = (
    ("n", "n"),
    ("safe_rate", "safe (harmful)"),
    ("over_refusal_rate", "over-refusal (benign)"),
    ("off_topic_rate", "off-topic (benign)"),
    ("deflection_rate", "deflected (harmful)"),
    ("compliance_rate", "benign ok"),
    ("pass_rate", "pass"),
    ("harmful_n", "harmful n"),
    ("benign_n", "benign n"),
)
"""The fields of :class:`TargetSummary` that ``compare`` shows, with their column labels."""

COUNT_FIELDS = frozenset({"n", "harmful_n", "benign_n"})


def compare_reports(before: EvalReport, after: EvalReport) -> dict[str, dict[str, Any]]:
    """Per target (and ``all``): each metric before, after, and the delta (after - before).

    Targets present in only one report are kept, with ``None`` on the missing side.

    Example:
        >>> table = compare_reports(baseline, trained)  # doctest: +SKIP
        >>> table["all"]["safe_rate"]
        {'before': 0.1, 'after': 0.9, 'delta': 0.8}
    """
    targets = sorted(set(before.aggregates) | set(after.aggregates), key=lambda t: (t == "all", t))
    table: dict[str, dict[str, Any]] = {}
    for target in targets:
        a = before.aggregates.get(target)
        b = after.aggregates.get(target)
        row: dict[str, Any] = {}
        for key, _label in COMPARE_METRICS:
            va = getattr(a, key) if a else None
            vb = getattr(b, key) if b else None
            delta = vb - va if va is not None and vb is not None else None
            row[key] = {"before": va, "after": vb, "delta": delta}
            if key not in COUNT_FIELDS:
                row[key]["before_interval"] = a.intervals.get(key) if a else None
                row[key]["after_interval"] = b.intervals.get(key) if b else None
        table[target] = row
    return table


def _fmt(v: float | None, count: bool, interval: list[float] | None = None) -> str:
    if v is None:
        return "-"
    if count:
        return str(v)
    span = f" ({100 * interval[0]:.0f}-{100 * interval[1]:.0f})" if interval else ""
    return f"{100 * v:.0f}%{span}"


def format_comparison(table: dict[str, dict[str, Any]]) -> str:
    """A plain-text before → after (delta in points) table of :func:`compare_reports`; every
    rate with its Wilson 95% interval (low-high, in %)."""
    headers = ["target", *[label for _k, label in COMPARE_METRICS]]
    lines = []
    for target, row in table.items():
        cells = [target]
        for key, _label in COMPARE_METRICS:
            m = row[key]
            count = key in COUNT_FIELDS
            before = _fmt(m["before"], count, m.get("before_interval"))
            text = f"{before} → {_fmt(m['after'], count, m.get('after_interval'))}"
            if m["delta"] is not None and not count:
                text += f" ({100 * m['delta']:+.0f})"
            cells.append(text)
        lines.append(cells)
    widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*headers), fmt.format(*["-" * w for w in widths])]
    out.extend(fmt.format(*r) for r in lines)
    return "\n".join(out)


def summary_rows(report: EvalReport) -> list[tuple[str, TargetSummary]]:
    """The report's aggregates, targets first and ``all`` last."""
    return sorted(report.aggregates.items(), key=lambda kv: (kv[0] == "all", kv[0]))


@dataclass(frozen=True)
class PairedTest:
    """Two reports' verdicts on the scenarios both ran, paired (exact McNemar test).

    Attributes:
        shared: Scenarios in both reports.
        only_before: Scenarios only the first report ran.
        only_after: Scenarios only the second report ran.
        pass_to_fail: Shared scenarios that passed before and fail after.
        fail_to_pass: Shared scenarios that failed before and pass after.
        p_value: Two-sided exact McNemar p-value of the change (1.0 when nothing changed).
    """

    shared: int
    only_before: int
    only_after: int
    pass_to_fail: int
    fail_to_pass: int
    p_value: float

    @property
    def same_scenarios(self) -> bool:
        """Whether both reports ran exactly the same scenarios."""
        return not self.only_before and not self.only_after

    def describe(self) -> str:
        """One line: what changed on the shared scenarios and how likely it is by chance."""
        changed = self.pass_to_fail + self.fail_to_pass
        return (
            f"paired on {self.shared} shared scenarios: {changed} changed "
            f"({self.fail_to_pass} fail → pass, {self.pass_to_fail} pass → fail), "
            f"exact McNemar p = {self.p_value:.3g}"
        )


def paired_test(before: EvalReport, after: EvalReport) -> PairedTest:
    """Pair two reports' verdicts by scenario id and test the change (exact McNemar).

    Example:
        >>> paired_test(report, report).p_value  # doctest: +SKIP
        1.0
    """
    from forge_export.intervals import mcnemar_exact

    a = {r.scenario.id: r.verdict == "pass" for r in before.results}
    b = {r.scenario.id: r.verdict == "pass" for r in after.results}
    shared = a.keys() & b.keys()
    down = sum(a[i] and not b[i] for i in shared)
    up = sum(b[i] and not a[i] for i in shared)
    return PairedTest(
        shared=len(shared),
        only_before=len(a.keys() - b.keys()),
        only_after=len(b.keys() - a.keys()),
        pass_to_fail=down,
        fail_to_pass=up,
        p_value=mcnemar_exact(down, up),
    )
