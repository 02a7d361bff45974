"""Benchmark: the size of a run folder and the time of ``catalyst runs verify`` on 1,000 runs (issue 12).

Run: ``.venv/bin/python -m benchmarks.bench_archive [--runs 1000] [--before-runs 100]``.

1. Real runs: a simulated gateway and a project of their own; ``catalyst cycle``, ``catalyst
   reconcile`` and ``catalyst review`` run through the command line, archived as a trader's are.
2. The same runs in the layout before issue 12, made from them: the HTML report self-contained
   (plotly.js and the stylesheet inside, code cells shown) and the trade log with DuckDB's default
   256 KiB blocks.
3. An archive of ``--runs`` runs in each layout (before: ``--before-runs``, its disk cost scaled),
   copies of those runs sealed one by one into the hash chain, mixed as a trading day is: 26 cycles,
   8 reconciliations, 1 review. Then ``verify_archive`` (what ``catalyst runs verify --no-ledger``
   runs: every artifact and every shared asset hashed, every link of the chain checked), three
   times, median.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from benchmarks.benchmarks_md import write_section
from catalyst.runs.archive import verify_archive
from catalyst.runs.archive_chain import seal_run
from catalyst.runs.folder import MANIFEST_NAME, TRADE_LOG_NAME, create_run_folder, run_dirs
from catalyst.runs.html_export import export_html
from catalyst.sim.gateway.launcher import start_gateway

SIM_CLOCK = "2026-11-24T10:00:00+08:00"
#: A cycle that sends brackets (its trade log holds intents, orders, order events and fills).
CYCLE_PARAMS = [
    "-p",
    "universe",
    "700,5,3988,2388,1211,1299",
    "-p",
    "strategy_params",
    '{"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": 3}',
]
#: The runs of one trading day: a cycle every quarter hour or so, hourly reconciliations, a review.
DAY_MIX = ("cycle",) * 26 + ("reconcile",) * 8 + ("review",)
GOAL_MEDIAN_BYTES = 1_000_000


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def real_runs(project: Path) -> dict[str, Path]:
    """One archived run of each kind, made by the command line over a simulated gateway."""
    gw = start_gateway(project / "state" / "sim", clock=SIM_CLOCK)
    env = {**os.environ, "CATALYST_SIM__PORT": str(gw.port), "CATALYST_MODE": "sim"}
    env.pop("CATALYST_PATHS__ROOT", None)
    catalyst = Path(sys.executable).with_name("catalyst")
    out: dict[str, Path] = {}
    try:
        for kind, extra in (("cycle", CYCLE_PARAMS), ("reconcile", []), ("review", [])):
            done = subprocess.run(
                [str(catalyst), kind, "--no-progress", *extra],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("Run folder:")]
            if done.returncode != 0 or not lines:
                raise RuntimeError(f"`catalyst {kind}` failed:\n{done.stdout}\n{done.stderr}")
            out[kind] = Path(lines[-1].split(":", 1)[1].strip())
    finally:
        gw.stop()
    return out


def before_layout(real: Path, target: Path) -> Path:
    """``real``'s artifacts as the archive held them before: self-contained HTML, 256 KiB blocks."""
    target.mkdir(parents=True)
    for item in real.iterdir():
        if item.name in (MANIFEST_NAME, TRADE_LOG_NAME) or item.suffix == ".html":
            continue
        shutil.copy2(item, target / item.name)
    notebook = next(real.glob("*.ipynb"))
    export_html(notebook, target / notebook.with_suffix(".html").name, show_code=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{real / TRADE_LOG_NAME}' AS src (READ_ONLY)")
        con.execute(f"ATTACH '{target / TRADE_LOG_NAME}' AS dst")
        con.execute("COPY FROM DATABASE src TO dst")
    finally:
        con.close()
    return target


def build_archive(runs: Path, templates: dict[str, Path], count: int, *, shared_from: Path | None) -> None:
    """``count`` runs copied from ``templates`` in the day mix, each sealed into the chain. With
    ``shared_from`` (the real archive), its shared assets are the archive's too."""
    if shared_from is not None:
        shutil.copytree(shared_from / "assets", runs / "assets")
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    for i in range(count):
        day, slot = divmod(i, len(DAY_MIX))
        kind = DAY_MIX[slot]
        folder = create_run_folder(runs, kind, start + timedelta(days=day, minutes=10 * slot))
        for item in templates[kind].iterdir():
            if item.name != MANIFEST_NAME:
                shutil.copy2(item, folder.path / item.name)
        seal_run(runs, folder, mode="sim", status="ok", started_at="", finished_at="", parameters={})


def time_verify(runs: Path) -> tuple[float, int, int]:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        report = verify_archive(runs)
        times.append(time.perf_counter() - t0)
        assert report.ok, report.problems[:5]
    return statistics.median(times), report.runs_checked, report.artifacts_checked


def median_folder(runs: Path) -> float:
    return statistics.median(folder_bytes(p) for p in run_dirs(runs))


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs in the archive (default 1000)")
    parser.add_argument("--before-runs", type=int, default=100, help="runs in the old layout (default 100)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        work = Path(tmp)
        project = work / "project"
        project.mkdir()
        real = real_runs(project)
        before = {k: before_layout(p, work / "before-templates" / k) for k, p in real.items()}
        sizes = {k: (folder_bytes(before[k]), folder_bytes(p)) for k, p in real.items()}
        assets = folder_bytes(project / "runs" / "assets")
        new_archive, old_archive = work / "new" / "runs", work / "old" / "runs"
        t0 = time.perf_counter()
        build_archive(new_archive, real, args.runs, shared_from=project / "runs")
        build_seconds = time.perf_counter() - t0
        build_archive(old_archive, before, args.before_runs, shared_from=None)
        new_verify, new_runs, new_artifacts = time_verify(new_archive)
        old_verify, old_runs, _ = time_verify(old_archive)
        new_median, old_median = median_folder(new_archive), median_folder(old_archive)
        new_total = folder_bytes(new_archive)
        old_total = folder_bytes(old_archive) * args.runs / args.before_runs
    load_after = os.getloadavg()[0]
    per_run_new, per_run_old = new_verify / new_runs, old_verify / old_runs
    verdict = "meets" if new_median <= GOAL_MEDIAN_BYTES else "MISSES"
    rows = "\n".join(
        f"| {k} | {b / 1e6:.2f} MB | {n / 1e6:.2f} MB | {b / n:.0f}x |" for k, (b, n) in sizes.items()
    )
    per_year = new_total / new_runs * len(DAY_MIX) * 250
    text = f"""## Archive size and `runs verify` (`benchmarks/bench_archive.py`)

Real runs (`catalyst cycle`, `reconcile`, `review` over the simulated gateway), then archives of
their copies sealed into the hash chain one by one, mixed as a trading day is (26 cycles,
8 reconciliations, 1 review). "Before": the same runs in the layout before issue 12 (HTML report
self-contained with plotly.js and the stylesheet inside, trade log in DuckDB's default 256 KiB blocks);
"now": plotly.js ({assets / 1e6:.1f} MB with the stylesheet) stored once in `runs/assets/`, loaded by a
relative path and hashed in every manifest that uses it; trade log in 16 KiB blocks.
{platform.machine()} / Python {platform.python_version()}, DuckDB {duckdb.__version__}, 1-minute load
average {load_before:.1f} before and {load_after:.1f} after, on {os.cpu_count()} cores (shared machine).

| run folder | before | now | |
|---|---|---|---|
{rows}
| **median run folder** (day mix) | {old_median / 1e6:.2f} MB | **{new_median / 1e6:.2f} MB** \
| goal <= 1 MB: {verdict} |

| archive of {new_runs:,} runs | before | now | |
|---|---|---|---|
| on disk (assets included) | {old_total / 1e9:.2f} GB (scaled from {old_runs}) | {new_total / 1e9:.2f} GB \
| {old_total / new_total:.0f}x smaller |
| `verify_archive`, median of 3 | {per_run_old * new_runs:.1f} s (scaled from {old_runs} runs: \
{old_verify:.2f} s) | **{new_verify:.1f} s** ({new_artifacts:,} artifacts and asset uses) \
| {per_run_old / per_run_new:.1f}x faster |

A year of trading days (250 x the day mix) now takes about {per_year / 1e9:.1f} GB of archive.
Building the {new_runs:,}-run archive (copy and seal each run) took {build_seconds:.0f} s.

Reproduce: `.venv/bin/python -m benchmarks.bench_archive` (`--runs N`, `--before-runs N`)."""
    print(text)
    if not args.no_write:
        write_section("bench_archive", text)
    return {"median_now": new_median, "verify_seconds": new_verify}


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
