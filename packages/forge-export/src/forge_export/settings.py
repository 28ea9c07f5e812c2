"""Layered settings: one dataclass per job, each default written once, ``None`` = unset.

A job's settings are a dataclass deriving from :class:`Settings` whose fields are declared with
:func:`setting` (default, help string, range). The layers of a run are merged in one order::

    defaults (the dataclass) ← a settings file (--config FILE.yaml) ← the command line

Every layer is a plain mapping in which ``None`` means *unset*: an option not given on the
command line is ``None`` and leaves the layer below alone (as inspect_ai's ``GenerateConfig``
merges). A settings class may compose others (the loop's rounds are two ``TrainOptions``): a
nested field takes a mapping, and :attr:`Settings.ALIASES` give flat names to nested fields
(``later_steps`` → ``later_rounds.max_steps``). :func:`settings_options` makes the click
options of a class (one per field or alias, the default and help from the field), so a
command's options, its config file and its record (:meth:`Settings.to_json`) share one
source. An unknown key is one error line naming the key and the nearest valid one. A default
that depends on the device a job runs on is a :class:`PerDevice` (``batch_size`` is 8 on a
CPU and 64 on a GPU); the job resolves it once it knows its device
(:meth:`Settings.for_device`), and a layer may set one number for every device or a mapping
``{cpu: 8, cuda: 128}``.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Decoding(Settings):
    ...     max_new_tokens: int = setting(256, "Longest reply in tokens.", minimum=1)
    ...     temperature: float = setting(0.0, "0 = greedy.", minimum=0.0)
    >>> Decoding().merge({"max_new_tokens": 64}, {"temperature": None}).max_new_tokens
    64
    >>> Decoding().merge({"max_new_token": 64})
    Traceback (most recent call last):
    forge_export.errors.ForgeError: settings: unknown key 'max_new_token'; did you mean 'max_new_tokens'?
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from forge_export.errors import ForgeError

__all__ = [
    "Alias",
    "PerDevice",
    "SettingInfo",
    "Settings",
    "cli_layer",
    "config_file_option",
    "on_device",
    "read_settings_file",
    "setting",
    "settings_options",
]

META_KEY = "forge_setting"

S = TypeVar("S", bound="Settings")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SettingInfo:
    """What a settings field says about itself.

    Attributes:
        help: The documentation (``--help`` shows it, with the default); a function returning
            it when it lists something only known at run time (the registered plug-ins).
        cli: Whether commands expose the field as an option.
        option: The option's name when it differs from the field's (``batch_size`` for
            ``per_device_train_batch_size``); also accepted as a key in settings files.
        flag: A boolean's two switches when not ``--name/--no-name`` (``--lora/--full``).
        minimum: The smallest allowed value of a number.
        min_open: Whether ``minimum`` itself is excluded.
        choices: The allowed values of a text field (``Literal`` types give them too).
        click_type: A click parameter type instead of the one the field's type gives.
        flatten: For a nested settings field: its fields are options and keys of this level.
        exclude: For a nested settings field: fields of it this level never sets (the caller
            does, e.g. the model each loop round starts from).
        multiple: For a tuple field: the option is repeated instead of comma-separated.
        key_values: For a dict field: the option is a repeatable ``KEY=VALUE``.
        short: A one-letter form of the option (``-o``).
    """

    help: str | Callable[[], str]
    cli: bool = True
    option: str | None = None
    flag: str | None = None
    minimum: float | None = None
    min_open: bool = False
    choices: tuple[str, ...] | None = None
    click_type: Any = None
    flatten: bool = False
    exclude: tuple[str, ...] = ()
    multiple: bool = False
    key_values: bool = False
    short: str | None = None


def setting(default: Any, help: str | Callable[[], str], **info: Any) -> Any:
    """A settings field: its default (written here once), its help and its range.

    A default that is a list, dict or :class:`Settings` instance is copied for every object.

    Args:
        default: The value when no layer sets it.
        help: What it does (one or two sentences; ``--help`` adds the default).
        **info: The other :class:`SettingInfo` attributes.
    """
    meta = {META_KEY: SettingInfo(help=help, **info)}
    if isinstance(default, list | dict | Settings):
        frozen = copy.deepcopy(default)
        return field(default_factory=lambda: copy.deepcopy(frozen), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class PerDevice:
    """A default that depends on the device a job runs on: one value on a CPU, one on a GPU.

    A settings field takes it as its default (its type is then ``int | PerDevice``); the job
    resolves it once it knows its device (:meth:`on`, :func:`on_device`,
    :meth:`Settings.for_device`). ``--help`` shows both values, a record keeps the mapping, and
    a layer may set one number (every device) or a mapping ``{cpu: N, cuda: N}``.

    Attributes:
        cpu: The value on a CPU (and any device that is not CUDA).
        cuda: The value on a CUDA GPU.

    Example:
        >>> PerDevice(cpu=8, cuda=64).on("cuda:1"), str(PerDevice(cpu=8, cuda=64))
        (64, '8 on CPU, 64 on CUDA')
    """

    cpu: int
    cuda: int

    def on(self, device: str) -> int:
        """The value on ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...)."""
        return self.cuda if str(device).startswith("cuda") else self.cpu

    def __str__(self) -> str:
        return f"{self.cpu} on CPU, {self.cuda} on CUDA"


def on_device(value: Any, device: str) -> Any:
    """``value`` on ``device``: a :class:`PerDevice` resolved, anything else as it is."""
    return value.on(device) if isinstance(value, PerDevice) else value


@dataclass(frozen=True)
class Alias:
    """A flat name for nested fields (``later_steps`` → ``later_rounds.max_steps``).

    Attributes:
        paths: The dotted paths it sets (all of them: ``batch_size`` sets both rounds').
        help: Its documentation (the option's help).
        cli: Whether commands expose it as an option.
    """

    paths: tuple[str, ...]
    help: str | Callable[[], str]
    cli: bool = True


@dataclass(frozen=True)
class _Leaf:
    """One settable value: where it lives and how it is typed."""

    path: str
    type: Any
    info: SettingInfo


class Settings:
    """Base of every settings dataclass (see the module docstring).

    Subclasses are ``@dataclass`` es whose fields come from :func:`setting`. ``ALIASES`` maps
    flat names to nested paths.
    """

    ALIASES: ClassVar[dict[str, Alias]] = {}

    # ---------------------------------------------------------------- reading values

    def __getattr__(self, name: str) -> Any:
        aliases = type(self).ALIASES
        if name in aliases:  # a flat name reads its first path
            return self.get(aliases[name].paths[0])
        raise AttributeError(f"{type(self).__name__!r} has no setting {name!r}")

    def get(self, path: str) -> Any:
        """The value at a dotted ``path`` (``later_rounds.max_steps``)."""
        value: Any = self
        for part in path.split("."):
            value = getattr(value, part)
        return value

    @classmethod
    def default_of(cls, key: str) -> Any:
        """The default of a field, dotted path, alias or option name."""
        return cls().get(_paths(cls, key, "settings")[0])

    # ---------------------------------------------------------------- layers

    def merge(self: S, *layers: Mapping[str, Any] | None, where: str = "settings") -> S:
        """A copy with each layer applied in turn; ``None`` values leave a field unset.

        Args:
            *layers: Mappings of field names, dotted paths, aliases or option names (a nested
                field takes a mapping); ``None`` layers are skipped.
            where: Names the layer in errors (a file's path, ``the command line``).

        Raises:
            ForgeError: an unknown key (with the nearest valid one) or a bad value, naming
                ``where``.
        """
        out = copy.deepcopy(self)
        for layer in layers:
            if layer is None:
                continue
            if not isinstance(layer, Mapping):
                raise ForgeError(f"{where}: expected a mapping of settings (key: value)")
            for path, value in _flatten_layer(type(self), layer, where, ""):
                _set(out, path, value)
        return out

    def to_json(self) -> dict[str, Any]:
        """Every field as plain JSON (paths as text, tuples as lists, nested as objects)."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            info = _info(f)
            value = getattr(self, f.name)
            if isinstance(value, Settings):
                nested = value.to_json()
                out[f.name] = {k: v for k, v in nested.items() if k not in info.exclude}
            else:
                out[f.name] = _plain(value)
        return out

    def for_device(self: S, device: str) -> S:
        """A copy with every :class:`PerDevice` value resolved for ``device``.

        Example:
            >>> from dataclasses import dataclass
            >>> @dataclass
            ... class Batching(Settings):
            ...     batch_size: int | PerDevice = setting(PerDevice(cpu=8, cuda=64), "Rows.")
            >>> Batching().for_device("cuda").batch_size, Batching().for_device("cpu").batch_size
            (64, 8)
        """
        out = copy.deepcopy(self)
        for leaf in _leaves(type(self)):
            value = out.get(leaf.path)
            if isinstance(value, PerDevice):
                _set(out, leaf.path, value.on(device))
        return out

    def check_ranges(self) -> None:
        """Raise :class:`ForgeError` for a value outside its range or choices."""
        for leaf in _leaves(type(self)):
            _check(leaf, self.get(leaf.path), f"--{_option_of(leaf).replace('_', '-')}")


# -------------------------------------------------------------------- introspection


def _info(f: dataclasses.Field[Any]) -> SettingInfo:
    info = f.metadata.get(META_KEY)
    return info if isinstance(info, SettingInfo) else SettingInfo(help="", cli=False)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_settings(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Settings)


def _leaves(cls: type, prefix: str = "", exclude: tuple[str, ...] = ()) -> Iterator[_Leaf]:
    """Every settable value of ``cls``, nested ones by dotted path."""
    hints = _hints(cls)
    for f in fields(cls):
        if f.name in exclude or not f.init:
            continue
        info, tp = _info(f), hints[f.name]
        if _is_settings(tp):
            yield from _leaves(tp, f"{prefix}{f.name}.", info.exclude)
        else:
            yield _Leaf(prefix + f.name, tp, info)


def _option_of(leaf: _Leaf) -> str:
    return leaf.info.option or leaf.path.rsplit(".", 1)[-1]


def _keys(cls: type) -> dict[str, tuple[str, ...]]:
    """Every key a layer of ``cls`` accepts → the dotted paths it sets.

    Field names first, then aliases, option names and the fields of flattened nested ones.
    """
    keys: dict[str, tuple[str, ...]] = {}
    hints = _hints(cls)
    flattened: list[tuple[str, tuple[str, ...]]] = []
    for f in fields(cls):
        info, tp = _info(f), hints[f.name]
        keys[f.name] = (f.name,)
        if _is_settings(tp) and info.flatten:
            for key, paths in _keys(tp).items():
                if key.split(".")[0] not in info.exclude:
                    flattened.append((key, tuple(f"{f.name}.{p}" for p in paths)))
    aliases = getattr(cls, "ALIASES", {})
    for name, alias in aliases.items():
        keys.setdefault(name, alias.paths)
    for f in fields(cls):
        option = _info(f).option
        if option:
            keys.setdefault(option, (f.name,))
    for key, paths in flattened:
        keys.setdefault(key, paths)
    return keys


def _paths(cls: type, key: str, where: str) -> tuple[str, ...]:
    keys = _keys(cls)
    if key in keys:
        return keys[key]
    if "." in key:  # a dotted path into a nested field
        head, rest = key.split(".", 1)
        hints = _hints(cls)
        if head in {f.name for f in fields(cls)} and _is_settings(hints[head]):
            return tuple(f"{head}.{p}" for p in _paths(hints[head], rest, where))
    raise ForgeError(f"{where}: unknown key {key!r}; {_nearest(key, keys)}")


def _nearest(key: str, keys: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid keys: " + ", ".join(sorted(keys))


def _leaf_at(cls: type, path: str) -> tuple[Any, SettingInfo]:
    """The type and info of the field at a dotted path."""
    head, _, rest = path.partition(".")
    f = next(f for f in fields(cls) if f.name == head)
    tp = _hints(cls)[head]
    if rest:
        return _leaf_at(tp, rest)
    return tp, _info(f)


def _flatten_layer(
    cls: type, layer: Mapping[str, Any], where: str, prefix: str
) -> Iterator[tuple[str, Any]]:
    """(dotted path, typed value) of every set key of a layer, in order."""
    for key, value in layer.items():
        if value is None:
            continue  # None = unset: the layer below stays
        if not isinstance(key, str):
            raise ForgeError(f"{where}: key {key!r} is not text")
        for path in _paths(cls, key, where):
            tp, info = _leaf_at(cls, path)
            if _is_settings(tp):
                if isinstance(value, Settings):
                    value = value.to_json()
                if not isinstance(value, Mapping):
                    raise ForgeError(
                        f"{where}: key {prefix + key!r}: expected a mapping of {tp.__name__} "
                        "settings"
                    )
                unknown_excluded = [k for k in value if k in info.exclude]
                if unknown_excluded:
                    raise ForgeError(
                        f"{where}: key {prefix + key}.{unknown_excluded[0]!r} is set by the job "
                        "itself; remove it"
                    )
                for sub, v in _flatten_layer(tp, value, where, f"{prefix}{key}."):
                    yield f"{path}.{sub}", v
            else:
                leaf = _Leaf(path, tp, info)
                yield path, _coerce(leaf, value, where, prefix + key)


def _set(obj: Any, path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if rest:
        _set(getattr(obj, head), rest, value)
    elif isinstance(value, dict) and isinstance(getattr(obj, head), dict):
        getattr(obj, head).update(value)  # KEY=VALUE layers add to the ones below
    else:
        object.__setattr__(obj, head, value)


# -------------------------------------------------------------------- values


def _plain(value: Any) -> Any:
    if isinstance(value, PerDevice):
        return {"cpu": value.cpu, "cuda": value.cuda}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _args(tp: Any) -> tuple[Any, ...]:
    return typing.get_args(tp)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _non_none(tp: Any) -> Any:
    """``X`` of ``X | None`` and of ``X | PerDevice`` (the type itself otherwise)."""
    if _is_union(tp):
        rest = [a for a in _args(tp) if a not in (type(None), PerDevice)]
        return rest[0] if len(rest) == 1 else tp
    return tp


def _choices(leaf: _Leaf) -> tuple[str, ...] | None:
    tp = _non_none(leaf.type)
    if typing.get_origin(tp) is Literal:
        return tuple(str(a) for a in _args(tp))
    return leaf.info.choices


def _describe(tp: Any) -> str:
    names = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}
    if tp in names:
        return names[tp]
    if tp is Path:
        return "a path"
    if typing.get_origin(tp) is tuple:
        return "a list of text (or comma-separated text)"
    if typing.get_origin(tp) is dict or tp is dict:
        return "a mapping"
    return str(tp)


def _coerce(leaf: _Leaf, value: Any, where: str, key: str) -> Any:
    """``value`` typed as the field wants it, or a one-line error naming the key."""
    tp = _non_none(leaf.type)
    if _per_device(leaf.type) and isinstance(value, PerDevice | Mapping):
        value = _coerce_per_device(value, f"{where}: key {key!r}")
        _check(leaf, value, f"{where}: key {key!r}")
        return value
    bad = ForgeError(f"{where}: key {key!r}: expected {_describe(tp)} (got {value!r})")
    if tp is bool:
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            value = value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise bad
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise bad
        value = int(value)
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        value = float(value)
    elif tp is Path:
        if not isinstance(value, str | Path):
            raise bad
        value = Path(value)
    elif typing.get_origin(tp) is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise bad
        value = tuple(value)
    elif typing.get_origin(tp) is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise bad
        value = dict(value)
    elif isinstance(value, bool | list | dict) or not isinstance(value, str | int | float | Path):
        raise bad
    else:
        value = str(value)
    _check(leaf, value, f"{where}: key {key!r}")
    return value


def _per_device(tp: Any) -> bool:
    """Whether a field's type takes a :class:`PerDevice` (``int | PerDevice``)."""
    return _is_union(tp) and PerDevice in _args(tp)


def _coerce_per_device(value: Any, name: str) -> PerDevice:
    """A :class:`PerDevice` from itself or a mapping ``{cpu: N, cuda: N}``, or one line."""
    if isinstance(value, PerDevice):
        return value
    if set(value) != {"cpu", "cuda"} or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value.values()
    ):
        raise ForgeError(
            f"{name}: expected a whole number or a mapping of both devices, "
            f"{{cpu: N, cuda: N}} (got {dict(value)!r})"
        )
    return PerDevice(cpu=int(value["cpu"]), cuda=int(value["cuda"]))


def _check(leaf: _Leaf, value: Any, name: str) -> None:
    if isinstance(value, PerDevice):
        _check(leaf, value.cpu, f"{name} (cpu)")
        _check(leaf, value.cuda, f"{name} (cuda)")
        return
    if value is None:
        return
    choices = _choices(leaf)
    if choices is not None and isinstance(value, str) and value not in choices:
        raise ForgeError(f"{name} must be one of {', '.join(choices)} (got {value!r})")
    low = leaf.info.minimum
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if low is not None and number and (value < low or (leaf.info.min_open and value == low)):
        word = "above" if leaf.info.min_open else "at least"
        raise ForgeError(f"{name} must be {word} {low:g} (got {value})")


# -------------------------------------------------------------------- files


def read_settings_file(path: str | Path) -> dict[str, Any]:
    """The settings mapping of a YAML or JSON file.

    A forge record holding its run's settings (a loop's ``summary.json``: its ``config``)
    gives those, so ``--config summary.json`` repeats the run.

    Raises:
        ForgeError: a missing or unreadable file, bad YAML/JSON (with its line), or a file
            whose top level is not a mapping.
    """
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ForgeError(f"{p}: no such settings file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ForgeError(f"{p}: cannot read the settings file ({exc})") from None
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ForgeError(f"{p}: line {exc.lineno}: not JSON ({exc.msg})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise ForgeError(f"{p}: {line}{problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ForgeError(f"{p}: expected a mapping of settings (key: value) at the top level")
    if "schema_version" in data and isinstance(data.get("config"), dict):
        return dict(data["config"])  # a record of a run: its resolved settings
    return data


# -------------------------------------------------------------------- command lines


def _click_type(leaf: _Leaf, name: str) -> Any:
    import click

    if leaf.info.click_type is not None:
        return leaf.info.click_type
    choices = _choices(leaf)
    if choices is not None:
        return click.Choice(list(choices))
    tp = _non_none(leaf.type)
    low = leaf.info.minimum
    if tp is int:
        return click.IntRange(min=int(low)) if low is not None else click.INT
    if tp is float:
        if low is not None:
            return click.FloatRange(min=low, min_open=leaf.info.min_open)
        return click.FLOAT
    if tp is Path:
        return click.Path(path_type=Path)
    return click.STRING


def _shown(value: Any, leaf: _Leaf) -> str | None:
    if value is None:
        return None
    if isinstance(value, PerDevice):
        return str(value)
    if isinstance(value, bool):
        if leaf.info.flag:
            on, off = leaf.info.flag.split("/")
            return on if value else off
        return str(value).lower()
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return None
    return str(value)


def _cli_leaves(cls: type, prefix: str = "", exclude: tuple[str, ...] = ()) -> Iterator[_Leaf]:
    """The leaves that are options: top-level fields and those of flattened nested fields."""
    hints = _hints(cls)
    for f in fields(cls):
        info, tp = _info(f), hints[f.name]
        if f.name in exclude:
            continue
        if _is_settings(tp):
            if info.flatten:
                yield from _cli_leaves(tp, f"{prefix}{f.name}.", info.exclude)
        elif info.cli:
            yield _Leaf(prefix + f.name, tp, info)


def help_text(text: str | Callable[[], str]) -> str:
    """A help string, computed when it is a function."""
    return text if isinstance(text, str) else text()


def _option_specs(cls: type[Settings]) -> list[tuple[str, _Leaf, str]]:
    """(key, leaf, help) of every option of ``cls``: its option fields, then its aliases."""
    keys = _keys(cls)
    specs: list[tuple[str, _Leaf, str]] = []
    for leaf in _cli_leaves(cls):
        if typing.get_origin(_non_none(leaf.type)) is dict and not leaf.info.key_values:
            continue  # a mapping is set in a settings file
        key = _option_of(leaf)
        if keys.get(key, ())[:1] == (leaf.path,):  # a name taken by a field or alias wins
            specs.append((key, leaf, help_text(leaf.info.help)))
    for name, alias in cls.ALIASES.items():
        if alias.cli and keys.get(name) == alias.paths:
            tp, info = _leaf_at(cls, alias.paths[0])
            specs.append((name, _Leaf(alias.paths[0], tp, info), help_text(alias.help)))
    return specs


def _option_class() -> type[Any]:
    import click

    class SettingOption(click.Option):
        """An option whose ``--help`` shows the settings default (its click default is unset)."""

        def __init__(self, *args: Any, shown_default: str | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.shown_default = shown_default

        def get_help_extra(self, ctx: click.Context) -> Any:
            extra = super().get_help_extra(ctx)
            if self.shown_default:
                extra["default"] = self.shown_default
            return extra

    return SettingOption


def settings_options(
    cls: type[Settings], *, only: list[str] | None = None, notes: Mapping[str, Any] | None = None
) -> Callable[[F], F]:
    """A decorator adding one click option per field (or alias) of ``cls``.

    Every option defaults to ``None`` (unset) so that :func:`cli_layer` passes only what was
    given; ``--help`` shows the dataclass default. Nested settings appear through their
    aliases (or, with ``flatten``, their own fields).

    Args:
        cls: The settings class.
        only: Keys to expose (default: every field and alias with ``cli`` on), in this order.
        notes: Key → a value shown after the help as ``[--quick: VALUE]`` (the loop's quick
            settings).
    """
    import click

    defaults = cls()
    specs = _option_specs(cls)
    if only is not None:
        by_key = {key: (key, leaf, text) for key, leaf, text in specs}
        specs = [by_key[k] for k in only]

    option_class = _option_class()

    def decorate(fn: F) -> F:
        for key, leaf, help_text in reversed(specs):
            default = _shown(defaults.get(leaf.path), leaf)
            note = (notes or {}).get(key)
            if note is not None:
                help_text += f" [--quick: {_shown(note, leaf)}]"
            name = "--" + key.replace("_", "-")
            kwargs: dict[str, Any] = {"default": None, "help": help_text, "cls": option_class}
            kwargs["shown_default"] = default
            tp = _non_none(leaf.type)
            if tp is bool:
                decl = leaf.info.flag or f"{name}/--no-{key.replace('_', '-')}"
                fn = click.option(decl, key, **kwargs)(fn)
                continue
            if leaf.info.key_values:
                kwargs.update(multiple=True, metavar="KEY=VALUE", default=(), shown_default=None)
            elif leaf.info.multiple:
                kwargs.update(multiple=True, default=(), shown_default=None)
            decls = [name, *([leaf.info.short] if leaf.info.short else [])]
            fn = click.option(*decls, key, type=_click_type(leaf, name), **kwargs)(fn)
        return fn

    return decorate


def cli_layer(cls: type[Settings], given: Mapping[str, Any]) -> dict[str, Any]:
    """The command-line layer: the options of :func:`settings_options` that were given.

    ``KEY=VALUE`` options become a mapping (one coercion rule:
    :func:`forge_export.cli_support.parse_key_values`); repeated options a list.
    """
    from forge_export.cli_support import parse_key_values

    keys = _keys(cls)
    out: dict[str, Any] = {}
    for key, value in given.items():
        if key not in keys or value is None or value == ():
            continue
        _tp, info = _leaf_at(cls, keys[key][0])
        if info.key_values:
            value = parse_key_values(value, option=f"--{key.replace('_', '-')}")
        elif info.multiple:
            value = list(value)
        out[key] = value
    return out


def config_file_option(fn: F) -> F:
    """The ``--config FILE`` option (a YAML or JSON settings file, or a run's summary.json)."""
    import click

    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Settings file (YAML or JSON; every option of this command by its name, e.g. "
        "max_new_tokens: 64); options given on the command line win. A loop's summary.json "
        "or run.yaml repeats that run.",
    )(fn)
