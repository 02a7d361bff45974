"""Print the markdown table of the bad inputs (issue 10, finding 8) for the closing note.

    .venv/bin/python tests/integration/cli/bad_inputs_table.py [--out PATH] [--jobs N]

Runs every case of :data:`bad_inputs.CASES` exactly as ``test_bad_inputs.py`` does (a ``catalyst``
subprocess in a project folder of its own, one shared simulated gateway for the cases that connect)
and prints, per input: the exit code, the first line of the message, and the verdict (refused, or
what went wrong: a traceback, exit 0, no message naming the fault, a side effect). Exit 1 when any
case is not a proper refusal.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bad_inputs import (
    CASES,
    GATEWAY_STATE,
    BadInput,
    Outcome,
    clean,
    problems_of,
    run_case,
    start_shared_gateway,
)


def _cell(text: str, limit: int = 160) -> str:
    text = (
        text.replace("|", "\\|").replace("`", "'") if not text.startswith("`") else text.replace("|", "\\|")
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table(rows: list[tuple[BadInput, Outcome, Path]]) -> str:
    refused = sum(1 for c, o, _ in rows if not problems_of(c, o))
    tracebacks = sum(1 for _, o, _ in rows if o.has_traceback)
    accepted = sum(1 for _, o, _ in rows if o.returncode == 0)
    lines = [
        f"{len(rows)} bad inputs, each run as a `catalyst` subprocess in a project of its own: "
        f"{refused} refused with a message naming the fault, {tracebacks} traceback(s), "
        f"{accepted} silently accepted (exit 0).",
        "",
        "| # | input | exit | first line of the message | verdict | s |",
        "|---|---|---|---|---|---|",
    ]
    for i, (case, outcome, project) in enumerate(rows, start=1):
        problems = problems_of(case, outcome)
        message = outcome.first_line().replace(str(project), "<project>")
        verdict = "refused" if not problems else "**" + "; ".join(problems) + "**"
        described = case.describe().replace(GATEWAY_STATE, "<gateway state>")
        lines.append(
            f"| {i} | {_cell(described, 120)} | {outcome.returncode} | "
            f"{_cell(message)} | {_cell(verdict, 120)} | {outcome.seconds:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the table here too")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bad-inputs-", dir="/tmp"))
    base.chmod(0o755)
    gateway, stop = start_shared_gateway(base)
    try:

        def one(numbered: tuple[int, BadInput]) -> tuple[BadInput, Outcome, Path]:
            i, case = numbered
            project = Path(tempfile.mkdtemp(prefix=f"{case.id}-", dir=base))
            try:
                return case, run_case(case, project, gateway=gateway, client_id=500 + i), project
            finally:
                clean(project)

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            rows = list(pool.map(one, enumerate(CASES)))
    finally:
        stop()
        clean(base)
    text = table(rows)
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0 if all(not problems_of(c, o) for c, o, _ in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
