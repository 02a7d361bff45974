"""One monitor per account: the pid lock refuses a second holder and frees itself on release."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catalyst.risk.errors import MonitorAlreadyRunningError
from catalyst.risk.monitor_pidfile import MonitorPidLock, running_monitor_pid


def test_a_second_monitor_for_the_same_account_is_refused_naming_the_first(tmp_path: Path) -> None:
    with (
        MonitorPidLock(tmp_path, "DU1"),
        pytest.raises(MonitorAlreadyRunningError, match=f"pid {os.getpid()}"),
    ):
        MonitorPidLock(tmp_path, "DU1").acquire()


def test_monitors_of_different_accounts_run_side_by_side(tmp_path: Path) -> None:
    with MonitorPidLock(tmp_path, "DU1"), MonitorPidLock(tmp_path, "DU2"):
        assert running_monitor_pid(tmp_path, "DU2") == os.getpid()


def test_a_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    MonitorPidLock(tmp_path, "DU1").acquire().release()
    assert running_monitor_pid(tmp_path, "DU1") is None
    with MonitorPidLock(tmp_path, "DU1") as lock:
        assert lock.path.read_text().strip() == str(os.getpid())
