"""The universe as a JSON document: the shipped default and the trader's dated, imported file.

Both files have the same shape: ``as_of`` (the date of HKEX's list the lots come from), ``source``
and ``securities``. The shipped ``universe.json`` predates the per-security kinds and eligibility
flags; an entry without them is an equity (an ETF on spread table D) and eligible for CAS, VCM and
POS, which is what HKEX's list of 31/12/2025 says of all 20 (hkex-rules.md §2).

:func:`write_universe` is the only writer. It swaps atomically: the new document goes to a
temporary file beside the target, is flushed to disk, the current file (if any) is kept as
``<name>.previous.json``, and ``os.replace`` puts the new one in place, so a reader sees either the
old universe or the new one, never half a file.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from catalyst.market.errors import UniverseFileError
from catalyst.market.security_record import KINDS, Kind, Security, normalize_symbol
from catalyst.market.spread_table import TABLES

FORMAT = "catalyst-universe/1"
#: Spread tables a stored security may carry (A/D are priced; B/E are recorded, not tradable).
STORED_TABLES = ("A", "B", "D", "E")


@dataclass(frozen=True)
class UniverseDocument:
    as_of: date
    source: str
    securities: tuple[Security, ...]
    imported_at: str = ""


def _flag(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, got {value!r}")
    return value


def security_from_json(raw: dict[str, Any]) -> Security:
    """One entry of a universe document; raises ValueError naming the field that is wrong."""
    table = str(raw["spread_table"])
    kind = str(raw.get("kind") or ("etf" if table == "D" else "equity"))
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    lot = raw["board_lot"]
    if isinstance(lot, bool) or not isinstance(lot, int) or lot <= 0:
        raise ValueError(f"board_lot must be a positive whole number, got {lot!r}")
    if table not in STORED_TABLES:
        raise ValueError(f"spread_table {table!r} is not one of {', '.join(STORED_TABLES)}")
    symbol = str(raw["symbol"])
    if symbol != normalize_symbol(symbol):
        raise ValueError(f"symbol {symbol!r} must be written without leading zeros")
    ref = raw.get("ref_price")
    sec = Security(
        symbol=symbol,
        name=str(raw["name"]),
        board_lot=lot,
        spread_table=table,
        stamp_duty=_flag(raw, "stamp_duty", True),
        shortsell_eligible=_flag(raw, "shortsell_eligible", False),
        rmb_counter=None if raw.get("rmb_counter") in (None, "") else str(raw["rmb_counter"]),
        ref_price=None if ref is None else Decimal(str(ref)),
        kind=_as_kind(kind),
        category=str(raw.get("category", "Exchange Traded Products" if kind == "etf" else "Equity")),
        sub_category=str(raw.get("sub_category", "")),
        isin=str(raw.get("isin", "")),
        currency=str(raw.get("currency", "HKD")),
        cas_eligible=_flag(raw, "cas_eligible", True),
        vcm_eligible=_flag(raw, "vcm_eligible", True),
        pos_eligible=_flag(raw, "pos_eligible", True),
    )
    if sec.ref_price is not None and sec.spread_table in TABLES and sec.ref_price <= 0:
        raise ValueError(f"ref_price must be above zero, got {sec.ref_price}")
    return sec


def _as_kind(text: str) -> Kind:
    for k in KINDS:
        if k == text:
            return k
    raise ValueError(f"kind {text!r} is not one of {', '.join(KINDS)}")


def security_to_json(sec: Security) -> dict[str, Any]:
    return {
        "symbol": sec.symbol,
        "name": sec.name,
        "kind": sec.kind,
        "category": sec.category,
        "sub_category": sec.sub_category,
        "board_lot": sec.board_lot,
        "spread_table": sec.spread_table,
        "stamp_duty": sec.stamp_duty,
        "shortsell_eligible": sec.shortsell_eligible,
        "cas_eligible": sec.cas_eligible,
        "vcm_eligible": sec.vcm_eligible,
        "pos_eligible": sec.pos_eligible,
        "currency": sec.currency,
        "isin": sec.isin,
        "rmb_counter": sec.rmb_counter,
        "ref_price": None if sec.ref_price is None else str(sec.ref_price),
    }


def parse_document(text: str, *, where: str) -> UniverseDocument:
    """A universe document from JSON text; ``where`` names the file in every error."""
    try:
        doc = json.loads(text)
        as_of = date.fromisoformat(str(doc["as_of"]))
        entries = doc["securities"]
    except (ValueError, KeyError, TypeError) as exc:
        raise UniverseFileError(
            f"{where} is not a Catalyst universe file ({exc}); import HKEX's list again with "
            "`catalyst universe import FILE`"
        ) from None
    secs: list[Security] = []
    for i, raw in enumerate(entries, start=1):
        try:
            secs.append(security_from_json(raw))
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise UniverseFileError(f"{where}: security #{i} ({raw!r:.80}) is inconsistent: {exc}") from None
    return UniverseDocument(
        as_of=as_of,
        source=str(doc.get("source", "")),
        securities=tuple(secs),
        imported_at=str(doc.get("imported_at", "")),
    )


def shipped_document() -> UniverseDocument:
    """The 20-security universe shipped inside the package (the default; no download needed)."""
    text = resources.files("catalyst.market").joinpath("universe.json").read_text(encoding="utf-8")
    return parse_document(text, where="catalyst/market/universe.json")


def read_universe_file(path: Path) -> UniverseDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UniverseFileError(f"cannot read the universe file {path}: {exc.strerror or exc}") from None
    return parse_document(text, where=str(path))


def document_json(doc: UniverseDocument) -> str:
    """The document as JSON text: a readable head, then one security per line (diffs stay small)."""
    head = {
        "format": FORMAT,
        "as_of": doc.as_of.isoformat(),
        "source": doc.source,
        "imported_at": doc.imported_at,
    }
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    secs = ",\n".join("    " + json.dumps(security_to_json(s), ensure_ascii=False) for s in doc.securities)
    return "{\n" + "\n".join(lines) + '\n  "securities": [\n' + secs + "\n  ]\n}\n"


def previous_path(path: Path) -> Path:
    """Where the universe replaced by the last import is kept."""
    return path.with_name(path.stem + ".previous" + (path.suffix or ".json"))


def write_universe(doc: UniverseDocument, path: Path) -> Path | None:
    """Atomically make ``doc`` the universe at ``path``; returns where the previous one was kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(document_json(doc))
            fh.flush()
            os.fsync(fh.fileno())
        kept: Path | None = None
        if path.exists():
            kept = previous_path(path)
            shutil.copy2(path, kept)
        os.replace(tmp, path)
        return kept
    finally:
        tmp.unlink(missing_ok=True)
