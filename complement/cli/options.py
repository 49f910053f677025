"""Typer parameters generated from the one option table in :mod:`complement.config`.

Every option is declared once (config key, kind, default, help) in ``config.OPTIONS`` /
``config.DATA_KEYS``, and every command's options once in ``config.COMMANDS``. :func:`command`
turns a command's row into a function whose signature Typer reads, so the flag, its help and
its config key cannot drift apart. Every command is called the same way: its handler receives
one :class:`Invocation` (positional arguments, the flags given, the --config path).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from complement.cli.common import STDOUT_OK, guarded, settings_for
from complement.config import COMMANDS, Option, Settings, option

__all__ = ["ARGUMENTS", "Invocation", "command", "help_text"]


@dataclass(frozen=True)
class Argument:
    """A positional argument: its metavar, type, help and the config key it fills (if any)."""

    name: str
    type: Any
    help: str
    key: str | None = None
    required: bool = False

    @property
    def metavar(self) -> str:
        """How ``--help`` names it: upper case, as the docs write it (``CURRENT``, ``[SEM]``)."""
        return self.name.upper()


ARGUMENTS: dict[str, Argument] = {
    "sem": Argument(
        "sem", Path,
        "semantic item embeddings (.npy/.npz/.parquet/.safetensors/.pt/.csv) "
        "[config: data.semantic]",
        key="semantic",
    ),
    "cf": Argument(
        "cf", Path, "collaborative item embeddings [config: data.collaborative]",
        key="collaborative",
    ),
    "item": Argument(
        "item", str, "item id (or, with --items, a title or part of one)", required=True
    ),
    "current": Argument(
        "current", Path, "the new report (JSON from complement report --json)", required=True
    ),
}  # fmt: skip

_TYPES = {
    "int": int,
    "float": float,
    "str": str,
    "path": Path,
    "bool": bool,
    "ints": str,
    "views": list[str],
    "choice": str,
    "choices": str,
}


def _quiet_help(command: str | None) -> str:
    """``--quiet``'s help naming only the outputs of ``command`` that may go to stdout."""
    base = option("quiet").help
    takes = COMMANDS.get(command or "", STDOUT_OK)
    to_stdout = [f"{option(name).flag} -" for name in STDOUT_OK if name in takes]
    return base + (f", no tables with {' or '.join(to_stdout)}" if to_stdout else "")


def help_text(opt: Option, command: str | None = None) -> str:
    """The option's help (for ``command``: ``--quiet`` names its outputs) with its config key,
    allowed values and default (none shown when empty)."""
    default = opt.default
    if isinstance(default, tuple):
        default = ",".join(map(str, default))
    choices = f"; one of {', '.join(opt.choices)}" if opt.choices else ""
    shown = default is not None and default is not False and default != ""
    tail = f" [config: {opt.name}{choices}" + (f"; default {default}]" if shown else "]")
    return (_quiet_help(command) if opt.name == "quiet" else opt.help) + tail


def _complete_from(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    """Shell completion of a choice option's value (``--capacity l<TAB>``)."""

    def complete(incomplete: str) -> list[str]:
        return [c for c in choices if c.startswith(incomplete)]

    return complete


def _option_param(name: str, command: str) -> inspect.Parameter:
    opt = option(name)
    flag = opt.flag
    if opt.kind == "bool":
        flag = f"{flag}/--no-{flag[2:]}"
    completion = _complete_from(opt.choices) if opt.choices else None
    info = typer.Option(
        flag, help=help_text(opt, command), show_default=False, autocompletion=completion
    )
    annotation: Any = Annotated[_TYPES[opt.kind] | None, info]
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation
    )


def _argument_param(arg: Argument) -> inspect.Parameter:
    info = typer.Argument(help=arg.help, show_default=False, metavar=arg.metavar)
    if arg.required:
        return inspect.Parameter(
            arg.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[arg.type, info]
        )
    return inspect.Parameter(
        arg.name,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=None,
        annotation=Annotated[arg.type | None, info],
    )


_CONFIG = inspect.Parameter(
    "config",
    inspect.Parameter.KEYWORD_ONLY,
    default=None,
    annotation=Annotated[
        Path | None,
        typer.Option("--config", help="config file (default: ./complement.toml if present)"),
    ],
)


@dataclass(frozen=True)
class Invocation:
    """One call of a command: positional arguments, flags given (None = not given), --config."""

    command: str
    arguments: dict[str, Any]
    flags: dict[str, Any]
    config: Path | None

    def settings(self, command: str | None = None, **extra: Any) -> Settings:
        """Resolve flags (and positional SEM/CF) over the config file over the defaults."""
        flags = dict(self.flags)
        inputs: list[str] = []  # positional files without a config key (gate's CURRENT)
        for name, value in self.arguments.items():
            key = ARGUMENTS[name].key
            if key is not None:
                flags[key] = value
            elif ARGUMENTS[name].type is Path and value is not None:
                inputs.append(str(value))
        flags.update(extra)
        return settings_for(command or self.command, self.config, inputs=inputs, **flags)


def command(
    name: str,
    handler: Callable[[Invocation], None],
    *,
    arguments: tuple[str, ...] = ("sem", "cf"),
    doc: str,
    config: bool = True,
) -> Callable[..., None]:
    """A Typer command function for ``name``: its options come from ``config.COMMANDS``."""
    keys = {ARGUMENTS[a].key for a in arguments}
    options = [n for n in COMMANDS[name] if n not in keys]
    params = [_argument_param(ARGUMENTS[a]) for a in arguments]
    params += [_option_param(n, name) for n in options]
    if config:
        params.append(_CONFIG)

    @guarded
    def run(*args: Any, **kwargs: Any) -> None:
        bound = signature.bind(*args, **kwargs)
        values = dict(bound.arguments)
        handler(
            Invocation(
                command=name,
                arguments={a: values.get(a) for a in arguments},
                flags={n: values.get(n) for n in options},
                config=values.get("config"),
            )
        )

    signature = inspect.Signature(params)
    run.__signature__ = signature  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__name__ = name
    run.__doc__ = doc
    return run
