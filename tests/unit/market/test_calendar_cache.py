"""The built HKEX calendar is cached on disk, and the cache says exactly what a fresh build says."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalyst.market import calendar as market_phase


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def test_the_cached_calendar_is_identical_to_a_fresh_build(cache_home: Path) -> None:
    fresh = market_phase._build_from_exchange_calendars()
    first = market_phase._build()  # builds and writes the cache
    path = market_phase._cache_path()
    assert path is not None and path.exists() and path.parent == cache_home / "catalyst"
    cached = market_phase._read_cache(path)
    assert cached is not None
    assert cached.days == fresh.days == first.days
    assert (cached.first, cached.last, cached.ordered) == (fresh.first, fresh.last, fresh.ordered)
    half_day = cached.days[market_phase.date(2026, 2, 16)]
    assert half_day.break_start is None and half_day.close.tzinfo == market_phase.HK_TZ


@pytest.mark.parametrize(
    "damage", ["", "{not json", '{"first": "2012-01-01", "last": "2028-12-31", "days": []}']
)
def test_a_damaged_cache_is_rebuilt_not_trusted(cache_home: Path, damage: str) -> None:
    path = market_phase._cache_path()
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_text(damage, encoding="utf-8")
    assert market_phase._read_cache(path) is None
    rebuilt = market_phase._build()
    assert rebuilt.days == market_phase._build_from_exchange_calendars().days
    assert market_phase._read_cache(path) is not None, "the damaged file was replaced by a whole one"


def test_an_unwritable_cache_only_costs_a_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert market_phase._build().days  # no error: the calendar is built, just not cached
