"""`catalyst market ...`: the HKEX rules as a trader sees them, with no broker involved."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import typer

from catalyst.config import ConfigError, load_settings
from catalyst.market import HK_TZ, MarketError
from catalyst.market.calendar import Phase, TradingDay
from catalyst.market.snapshot import MarketSnapshot, market_snapshot

market_app = typer.Typer(
    help="HKEX market rules: phase, sessions, board lots and ticks.", no_args_is_help=True
)

_PHASE_NOTES: dict[Phase, str] = {
    Phase.CLOSED: "market closed",
    Phase.PRE_OPEN: "pre-opening auction: no new orders from Catalyst",
    Phase.MORNING: "continuous trading: new orders accepted",
    Phase.LUNCH: "lunch break: no new orders",
    Phase.AFTERNOON: "continuous trading: new orders accepted",
    Phase.CLOSING_AUCTION: "closing auction: no new orders",
}


def _hhmm(ts: datetime) -> str:
    return ts.strftime("%H:%M")


def _day_line(td: TradingDay | None) -> str:
    if td is None:
        return "no trading today (weekend or holiday)"
    if td.break_start is not None and td.break_end is not None:
        continuous = f"{_hhmm(td.open)}-{_hhmm(td.break_start)}, {_hhmm(td.break_end)}-{_hhmm(td.close)}"
    else:
        continuous = f"{_hhmm(td.open)}-{_hhmm(td.close)} (half day)"
    return (
        f"pre-open {_hhmm(td.pre_open)}-{_hhmm(td.open)}, continuous {continuous}, "
        f"closing auction {_hhmm(td.close)}-{_hhmm(td.auction_end)}"
    )


def _money(x: Decimal | None) -> str:
    return "-" if x is None else f"{x:,.2f}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


#: Without --symbols, a universe larger than this lists only its securities with a reference price.
LIST_ALL_UP_TO = 40


def render_snapshot(snap: MarketSnapshot, *, all_lines: bool = True) -> str:
    """Plain aligned text for a terminal."""
    out = [
        f"HKEX market snapshot at {snap.at:%Y-%m-%d %H:%M:%S} HKT ({snap.at:%a})",
        f"  phase       {snap.phase.value} ({_PHASE_NOTES[snap.phase]})",
    ]
    if snap.minutes_to_close is not None:
        out.append(f"  to close    {snap.minutes_to_close:.0f} min of continuous trading left today")
    out += [
        f"  today       {_day_line(snap.today)}",
        f"  next open   {snap.next_open:%Y-%m-%d %H:%M} HKT ({snap.next_open:%a})",
        f"  Part A      {snap.part_a_regime}",
        f"  universe    {snap.universe_source or snap.universe_as_of}",
    ]
    if snap.universe_warning:
        out.append(f"  WARNING     {snap.universe_warning}")
    lines = snap.lines
    if not all_lines and len(lines) > LIST_ALL_UP_TO:
        shown = tuple(ln for ln in lines if ln.ref_price is not None)[:LIST_ALL_UP_TO]
        out.append(
            f"  listed      {len(shown)} of {len(lines):,} tradable securities (those with a reference "
            "price); name others with --symbols"
        )
        lines = shown
    out.append("")
    header = (
        "code", "name", "kind", "lot", "table", "ref price*", "tick", "lot value*", "stamp", "short",
        "CAS/VCM/POS",
    )  # fmt: skip
    rows = [
        (
            ln.symbol,
            ln.name,
            ln.kind,
            f"{ln.board_lot:,}",
            ln.spread_table,
            "-" if ln.ref_price is None else f"{ln.ref_price}",
            "-" if ln.tick is None else f"{ln.tick}",
            _money(ln.lot_value),
            _yes(ln.stamp_duty),
            _yes(ln.shortsell_eligible),
            "/".join("Y" if f else "-" for f in (ln.cas_eligible, ln.vcm_eligible, ln.pos_eligible)),
        )
        for ln in lines
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {3, 5, 6, 7}

    def fmt(r: tuple[str, ...]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    out += [fmt(header), fmt(tuple("-" * w for w in widths)), *(fmt(r) for r in rows)]
    out += ["", "* indicative late-2025 price level shipped with Catalyst, not a quote; HKD ('-': none)."]
    return "\n".join(out)


def _parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date-time such as 2026-02-16T11:00") from None
    return ts.replace(tzinfo=HK_TZ) if ts.tzinfo is None else ts


@market_app.command("snapshot")
def snapshot(
    at: str | None = typer.Option(
        None, "--at", help="ISO date-time; without an offset it is read as Hong Kong time. Default: now."
    ),
    symbols: list[str] | None = typer.Option(  # noqa: B008
        None, "--symbols", "-s", help="Stock codes (repeat or comma-separate). Default: the whole universe."
    ),
) -> None:
    """Phase now in Hong Kong, the next session's open, and lot and tick for each security."""
    codes = [c for s in symbols for c in s.split(",") if c.strip()] if symbols else None
    try:
        load_settings().apply_market_rules()
    except ConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from e
    try:
        snap = market_snapshot(_parse_at(at), codes)
    except MarketError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from e
    typer.echo(render_snapshot(snap, all_lines=codes is not None))


def register(app: typer.Typer) -> None:
    """Add the `market` group to the root app."""
    app.add_typer(market_app, name="market")
