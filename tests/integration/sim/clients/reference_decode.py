"""Frames read by IB's own decoder (``ibapi`` 10.x, the reference for every field's first version).

Run with a current ibapi first on ``PYTHONPATH``:

    python reference_decode.py FRAMES.json PROBLEMS.json

``FRAMES.json`` is a list of ``{"version": V, "fields": [message id, ...]}``; each frame is decoded at
its version, field by field, and ``PROBLEMS.json`` gets every frame the decoder could not read, read
past its end, or left fields of (an empty list: every frame is exactly what IB's client expects).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from client_checks import watch_decoder_logs
from ibapi.wrapper import EWrapper
from ibapi_session import WatchedDecoder


def check(frames: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    watch_decoder_logs(["ibapi.decoder", "ibapi.orderdecoder", "ibapi.utils"], problems)
    decoders: dict[int, WatchedDecoder] = {}
    for frame in frames:
        version = int(frame["version"])
        decoder = decoders.get(version)
        if decoder is None:
            decoder = decoders[version] = WatchedDecoder(EWrapper(), version)
            decoder.frames, decoder.problems = [], problems
        before = len(problems)
        msg_id, *rest = (str(f).encode("utf-8") for f in frame["fields"])
        decoder.interpret(rest, int(msg_id))
        problems[before:] = [f"at version {version}: {p}" for p in problems[before:]]
    return problems


def main(argv: list[str]) -> int:
    frames_file, out = argv
    frames = json.loads(Path(frames_file).read_text(encoding="utf-8"))
    Path(out).write_text(json.dumps(check(frames)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
