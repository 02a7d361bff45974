"""Strategy research: the strategy interface, bar data, the backtester, sweeps and tear sheets.

The same ``Strategy.scan`` drives research notebooks and the trading cycle; the backtester
applies the live HKEX rules from ``catalyst.market`` and the live limits from ``catalyst.risk``.
"""

from catalyst.domain import Candidate
from catalyst.research.backtest_result import BacktestResult
from catalyst.research.backtester import BacktestConfig, backtest_day, backtest_day_verdict, run_backtest
from catalyst.research.bar_download import download_bars
from catalyst.research.bar_import import ImportReport, bars_from_records, import_bars, normalize_bars
from catalyst.research.bar_provenance import bar_summary, data_type_note, data_type_of
from catalyst.research.bar_sources import research_bars
from catalyst.research.bar_store import BarStore, default_bar_root
from catalyst.research.momentum import MomentumParams, MomentumStrategy
from catalyst.research.strategy_base import Strategy, candidates_from_signals
from catalyst.research.strategy_registry import get_strategy, list_strategies, register_strategy
from catalyst.research.sweeps import compare_sets, compare_table, sweep, walk_forward
from catalyst.research.tearsheet import compare_equity, stats_table, tearsheet, write_tearsheet
from catalyst.risk.position_sizing import size_candidate, size_candidates

__all__ = [
    "BacktestConfig",
    "BacktestResult",
    "BarStore",
    "Candidate",
    "ImportReport",
    "MomentumParams",
    "MomentumStrategy",
    "Strategy",
    "backtest_day",
    "backtest_day_verdict",
    "bar_summary",
    "bars_from_records",
    "candidates_from_signals",
    "compare_equity",
    "compare_sets",
    "compare_table",
    "data_type_note",
    "data_type_of",
    "default_bar_root",
    "download_bars",
    "get_strategy",
    "import_bars",
    "list_strategies",
    "normalize_bars",
    "register_strategy",
    "research_bars",
    "run_backtest",
    "size_candidate",
    "size_candidates",
    "stats_table",
    "sweep",
    "tearsheet",
    "walk_forward",
    "write_tearsheet",
]
