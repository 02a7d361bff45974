"""What a command prints for a ledger or file-system error: the file, why, and what to do."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from catalyst.cli.error_translation import ErrorTranslatingGroup, cli_errors, describe, describe_os_error
from catalyst.ledger import Ledger
from catalyst.ledger.errors import LedgerError


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        (errno.EISDIR, "folder where Catalyst needs a file"),
        (errno.ENOTDIR, "is a file where Catalyst needs a folder"),
        (errno.EEXIST, "a file is in the way"),
        (errno.EACCES, "check its owner and mode"),
        (errno.EROFS, "read-only"),
        (errno.ENOSPC, "disk is full"),
    ],
)
def test_a_file_system_error_names_the_file_and_what_to_do(code: int, advice: str) -> None:
    message = describe_os_error(OSError(code, "why", "/p/state/ledger.duckdb"))
    assert "/p/state/ledger.duckdb" in message and advice in message


def test_a_ledger_that_cannot_be_opened_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "ledger.duckdb"
    path.write_bytes(b"\x01" * 5000)
    with pytest.raises(LedgerError) as caught:
        Ledger(path).tables()
    message = describe(caught.value)
    assert message is not None
    assert str(path) in message and "what to do:" in message and "backup" in message


def test_a_programming_error_is_not_translated() -> None:
    assert describe(KeyError("x")) is None
    with pytest.raises(KeyError), cli_errors():
        raise KeyError("x")


def test_every_command_of_the_root_group_is_translated(tmp_path: Path) -> None:
    app = typer.Typer(cls=ErrorTranslatingGroup)

    @app.command()
    def open_ledger() -> None:
        Ledger(tmp_path / "state-file" / "ledger.duckdb").tables()

    @app.command()
    def other() -> None:
        pass

    (tmp_path / "state-file").write_text("a file where the state folder should be")
    result = CliRunner().invoke(app, ["open-ledger"])
    assert result.exit_code == 2
    assert "state-file" in result.output and "a file is in the way" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_typers_own_exits_pass_through() -> None:
    with pytest.raises(typer.Exit), cli_errors():
        raise typer.Exit(3)
