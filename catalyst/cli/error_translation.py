"""One translation of ledger, file-system and refusal errors into a message a trader can act on.

Every command runs inside :func:`cli_errors` (the root command group wraps them all, see
:class:`ErrorTranslatingGroup`), so a damaged ledger, a folder where a file should be, a file where
a folder should be, a full disk or a read-only state directory ends the command with the file named,
what to do about it, and exit code :data:`EXIT_REFUSED`, never a traceback. Errors Catalyst raises on
purpose (:class:`~catalyst.errors.CatalystError`) are printed as they are: their messages already say
what to do. Programming errors are not translated: they must stay visible.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import typer
from typer.core import TyperGroup

from catalyst.errors import CatalystError
from catalyst.ledger.errors import LedgerBusyError, LedgerError, LedgerMigrationError
from catalyst.runs.preflight import ledger_hint

#: The exit code of a command refused because of its input, files or settings (click's usage errors
#: use the same code).
EXIT_REFUSED = 2

F = TypeVar("F", bound=Callable[..., Any])

_BY_ERRNO: dict[int, str] = {
    errno.EISDIR: "it is a folder where Catalyst needs a file: move it aside or fix paths.* in catalyst.toml",
    errno.ENOTDIR: "a part of this path is a file where Catalyst needs a folder: move that file aside "
    "or fix paths.* in catalyst.toml",
    errno.EEXIST: "a file is in the way where Catalyst needs a folder: move it aside or fix paths.* "
    "in catalyst.toml",
    errno.EACCES: "permission denied: check its owner and mode (`ls -ld`), or point paths.* in "
    "catalyst.toml at a folder you may write",
    errno.EPERM: "operation not permitted: check its owner and mode (`ls -ld`)",
    errno.EROFS: "the file system is read-only: point paths.* in catalyst.toml at a writable folder",
    errno.ENOSPC: "the disk is full: free some space and retry",
    errno.ENOENT: "it does not exist: check the path (and paths.* in catalyst.toml)",
}


def _settings_ledger_path() -> Path | None:
    """The configured ledger's path, to name it in a DuckDB error that does not (best effort)."""
    try:
        from catalyst.config import load_settings

        return Path(load_settings().ledger_path)
    except Exception:  # the settings may be what is broken; the message then goes without the path
        return None


def describe_os_error(exc: OSError) -> str:
    """``cannot <use> PATH: <why>; <what to do>`` for an error of the file system."""
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    where = " -> ".join(names) if names else "a file"
    why = exc.strerror or type(exc).__name__
    hint = _BY_ERRNO.get(exc.errno or 0, "check the file and the folder it is in")
    return f"cannot use {where}: {why}; {hint}"


def describe(exc: BaseException) -> str | None:
    """The message for ``exc``, or ``None`` when it is not ours to translate (a programming error)."""
    if isinstance(exc, LedgerBusyError | LedgerMigrationError):
        return str(exc)
    if isinstance(exc, LedgerError):
        if isinstance(exc.__cause__, duckdb.Error) and "cannot open the ledger" in str(exc):
            return f"{exc}\n  what to do: {ledger_hint(str(exc))}"
        if isinstance(exc.__cause__, duckdb.Error):
            path = _settings_ledger_path()
            named = f" (ledger {path})" if path else ""
            return f"{exc}{named}\n  what to do: {ledger_hint(str(exc))}"
        return str(exc)
    if isinstance(exc, duckdb.Error):
        path = _settings_ledger_path()
        named = f"the ledger {path}" if path else "a DuckDB file"
        return f"DuckDB could not read {named}: {exc}\n  what to do: {ledger_hint(str(exc))}"
    if isinstance(exc, CatalystError):
        return str(exc)
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    return None


def _report(message: str) -> typer.Exit:
    first, _, rest = message.partition("\n")
    typer.secho(f"error: {first}", fg=typer.colors.RED, err=True)
    if rest:
        typer.echo(rest, err=True)
    return typer.Exit(EXIT_REFUSED)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a ledger, file-system or Catalyst error raised inside into a message and exit 2."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own way out (usage errors)
        raise
    except Exception as exc:
        message = describe(exc)
        if message is None:
            raise
        raise _report(message) from exc


def translate_errors(func: F) -> F:
    """Decorator form of :func:`cli_errors`, for a command run outside the root group."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with cli_errors():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ErrorTranslatingGroup(TyperGroup):
    """The root command group: every subcommand runs inside :func:`cli_errors`."""

    def invoke(self, ctx: Any) -> Any:  # typer's click Context (its module is private)
        with cli_errors():
            return super().invoke(ctx)
