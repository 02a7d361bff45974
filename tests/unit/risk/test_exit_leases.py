"""The monitor's side of one owner of a symbol's exits: a try-acquire of the symbol's exits lease,
left alone (and said so once) while another holder has it; the breaker's bounded wait."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from catalyst.ledger.errors import LeaseNameError
from catalyst.ledger.lease import Lease, exits_lease_name, lease_holder
from catalyst.risk.exit_leases import ExitLeases

ACCOUNT = "DU0000001"


def leases(state: Path, account: str = ACCOUNT) -> ExitLeases:
    return ExitLeases(state, lambda: account, run_id="monitor-1")


def test_the_monitor_holds_the_symbols_exits_lease_while_it_acts_and_releases_it(tmp_path: Path) -> None:
    own = leases(tmp_path)
    with own.owned("700") as mine:
        assert mine
        holder = lease_holder(tmp_path, exits_lease_name(ACCOUNT, "700"))
        assert holder is not None and holder.purpose == "monitor" and holder.run_id == "monitor-1"
    assert lease_holder(tmp_path, exits_lease_name(ACCOUNT, "700")) is None


def test_a_symbol_whose_lease_another_holder_has_is_left_alone_and_said_once_per_hold(tmp_path: Path) -> None:
    other = Lease(tmp_path, exits_lease_name(ACCOUNT, "700"), purpose="bracket proof", run_id="cycle-1")
    assert other.try_acquire()
    own = leases(tmp_path)
    with capture_logs() as logs:
        for _ in range(3):
            with own.owned("700") as mine:
                assert not mine
        with own.owned("5") as mine:  # another symbol is free
            assert mine
    said = [e for e in logs if e["event"] == "monitor.exits.held_elsewhere"]
    assert len(said) == 1 and "bracket proof" in said[0]["holder"] and said[0]["log_level"] == "info"
    other.release()
    with own.owned("700") as mine:
        assert mine


def test_ownership_is_re_entrant_inside_one_monitor(tmp_path: Path) -> None:
    """A repair that falls back to a flatten stays under the one lease (a second flock from the same
    process would refuse itself)."""
    own = leases(tmp_path)
    with own.owned("700") as outer:
        with own.owned("700") as inner:
            assert outer and inner
        assert own.holds("700")
    assert not own.holds("700")


def test_the_breaker_waits_at_most_its_bound_then_names_the_holder(tmp_path: Path) -> None:
    other = Lease(tmp_path, exits_lease_name(ACCOUNT, "700"), purpose="stuck cycle")
    assert other.try_acquire()
    own = leases(tmp_path)
    holder = asyncio.run(own.take_waiting("700", 0.2))
    assert holder is not None and holder.purpose == "stuck cycle"
    assert not own.holds("700")
    other.release()
    assert asyncio.run(own.take_waiting("700", 0.2)) is None
    assert own.holds("700")
    own.release("700")
    assert lease_holder(tmp_path, exits_lease_name(ACCOUNT, "700")) is None


def test_no_lease_is_taken_under_an_empty_account(tmp_path: Path) -> None:
    with pytest.raises(LeaseNameError), leases(tmp_path, account="").owned("700"):
        pass


def test_without_a_state_dir_the_monitor_owns_every_symbol(tmp_path: Path) -> None:
    own = ExitLeases(None, lambda: ACCOUNT)
    with own.owned("700") as mine:
        assert mine
    assert list(tmp_path.iterdir()) == []
