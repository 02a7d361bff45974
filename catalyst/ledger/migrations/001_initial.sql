-- Catalyst ledger, schema version 1.
-- Event tables (order_events, fills, position_snapshots, discrepancies, risk_events, alerts,
-- log_events) are append-only: rows are inserted once, keyed by a caller-made unique id, and never
-- updated or deleted. State tables (runs, intents, orders, positions, reconciliations) hold the
-- current view and are upserted; every change to them is also written as an event.
-- Money is DECIMAL; timestamps are TIMESTAMPTZ (UTC on write).

CREATE TABLE IF NOT EXISTS runs (
    run_id        VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,           -- cycle | reconcile | review | research | monitor | test ...
    mode          VARCHAR NOT NULL,           -- sim | paper | live
    account       VARCHAR,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL,           -- running | ok | failed
    parameters    JSON,
    run_dir       VARCHAR,
    code_version  VARCHAR
);

CREATE TABLE IF NOT EXISTS intents (
    intent_id     VARCHAR PRIMARY KEY,
    run_id        VARCHAR,
    created_at    TIMESTAMPTZ NOT NULL,
    account       VARCHAR,
    symbol        VARCHAR NOT NULL,
    side          VARCHAR NOT NULL,           -- BUY | SELL
    quantity      BIGINT NOT NULL,
    entry_price   DECIMAL(18, 4) NOT NULL,
    stop_price    DECIMAL(18, 4) NOT NULL,
    target_price  DECIMAL(18, 4) NOT NULL,
    strategy      VARCHAR,
    score         DOUBLE,
    reason        VARCHAR,
    status        VARCHAR NOT NULL,           -- approved | rejected | submitted | proven | failed | dry_run
    detail        JSON
);

CREATE TABLE IF NOT EXISTS orders (
    order_ref       VARCHAR PRIMARY KEY,      -- deterministic: <intent_id>:P|TP|SL (or :FLAT, :PROT...)
    intent_id       VARCHAR,
    run_id          VARCHAR,
    role            VARCHAR NOT NULL,         -- entry | take_profit | stop_loss | flatten | protect | exit
    account         VARCHAR,
    symbol          VARCHAR NOT NULL,
    side            VARCHAR NOT NULL,
    order_type      VARCHAR NOT NULL,         -- LMT | MKT | STP | STP LMT
    quantity        BIGINT NOT NULL,
    limit_price     DECIMAL(18, 4),
    stop_price      DECIMAL(18, 4),
    tif             VARCHAR,
    parent_ref      VARCHAR,
    oca_group       VARCHAR,
    client_id       INTEGER,
    order_id        BIGINT,
    perm_id         BIGINT,
    status          VARCHAR NOT NULL,         -- intended | sent | PreSubmitted | Submitted | Filled | Cancelled | Inactive | rejected | unknown ...
    filled          BIGINT DEFAULT 0,
    avg_fill_price  DECIMAL(18, 6),
    fees            DECIMAL(18, 2) DEFAULT 0,
    placed_at       TIMESTAMPTZ,
    acknowledged_at TIMESTAMPTZ,
    first_fill_at   TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ,
    error_code      INTEGER,
    error_message   VARCHAR
);

CREATE TABLE IF NOT EXISTS order_events (
    event_id        VARCHAR PRIMARY KEY,
    ts              TIMESTAMPTZ NOT NULL,
    run_id          VARCHAR,
    order_ref       VARCHAR,
    perm_id         BIGINT,
    order_id        BIGINT,
    status          VARCHAR,
    filled          BIGINT,
    remaining       BIGINT,
    avg_fill_price  DOUBLE,
    source          VARCHAR,                  -- submit | verify | sync | stream | reconcile ...
    error_code      INTEGER,
    error_message   VARCHAR,
    raw             JSON
);

CREATE TABLE IF NOT EXISTS fills (
    exec_id       VARCHAR PRIMARY KEY,
    ts            TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR,
    account       VARCHAR,
    order_ref     VARCHAR,
    perm_id       BIGINT,
    order_id      BIGINT,
    symbol        VARCHAR NOT NULL,
    side          VARCHAR NOT NULL,           -- BUY | SELL
    quantity      BIGINT NOT NULL,
    price         DECIMAL(18, 4) NOT NULL,
    commission    DECIMAL(18, 2),
    fees          DECIMAL(18, 2),             -- commission + stamp + levies + trading + settlement
    currency      VARCHAR,
    realized_pnl  DOUBLE,
    source        VARCHAR,                    -- stream | sync | backfill
    raw           JSON
);

CREATE TABLE IF NOT EXISTS positions (
    account       VARCHAR NOT NULL,
    symbol        VARCHAR NOT NULL,
    quantity      BIGINT NOT NULL,            -- signed: long > 0, short < 0; 0 = closed
    avg_cost      DECIMAL(18, 6),
    stop_price    DECIMAL(18, 4),
    target_price  DECIMAL(18, 4),
    intent_id     VARCHAR,
    opened_at     TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ,
    source        VARCHAR,                    -- fill | reconcile-adopt | reconcile-correct | reconcile-close
    PRIMARY KEY (account, symbol)
);

CREATE TABLE IF NOT EXISTS position_snapshots (
    snapshot_id   VARCHAR PRIMARY KEY,
    ts            TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR,
    account       VARCHAR,
    symbol        VARCHAR NOT NULL,
    quantity      BIGINT NOT NULL,
    avg_cost      DECIMAL(18, 6),
    market_price  DOUBLE,
    source        VARCHAR NOT NULL            -- broker | ledger
);

CREATE TABLE IF NOT EXISTS reconciliations (
    recon_id          VARCHAR PRIMARY KEY,
    run_id            VARCHAR,
    ts                TIMESTAMPTZ NOT NULL,
    account           VARCHAR,
    status            VARCHAR NOT NULL,       -- clean | corrected | failed
    broker_positions  INTEGER,
    ledger_positions  INTEGER,
    discrepancies     INTEGER,
    detail            JSON
);

CREATE TABLE IF NOT EXISTS discrepancies (
    discrepancy_id   VARCHAR PRIMARY KEY,
    recon_id         VARCHAR NOT NULL,
    ts               TIMESTAMPTZ NOT NULL,
    account          VARCHAR,
    symbol           VARCHAR,
    kind             VARCHAR NOT NULL,        -- phantom | orphan | quantity_mismatch | missing_fill
    ledger_quantity  BIGINT,
    broker_quantity  BIGINT,
    correction       VARCHAR,
    explained        BOOLEAN,
    detail           JSON
);

CREATE TABLE IF NOT EXISTS risk_events (
    event_id   VARCHAR PRIMARY KEY,
    ts         TIMESTAMPTZ NOT NULL,
    run_id     VARCHAR,
    account    VARCHAR,
    kind       VARCHAR NOT NULL,              -- bracket_unproven | pretrade_rejected | breaker_tripped | breaker_reset | symbol_locked | symbol_unlocked | unprotected_position | ...
    severity   VARCHAR NOT NULL,              -- info | warning | critical
    symbol     VARCHAR,
    message    VARCHAR NOT NULL,
    detail     JSON
);

CREATE TABLE IF NOT EXISTS alerts (
    alert_id    VARCHAR PRIMARY KEY,
    ts          TIMESTAMPTZ NOT NULL,
    run_id      VARCHAR,
    severity    VARCHAR NOT NULL,
    title       VARCHAR NOT NULL,
    body        VARCHAR,
    dedup_key   VARCHAR,
    channels    JSON,
    delivered   BOOLEAN,
    failure     VARCHAR
);

CREATE TABLE IF NOT EXISTS log_events (
    event_id   VARCHAR PRIMARY KEY,
    ts         TIMESTAMPTZ NOT NULL,
    run_id     VARCHAR,
    level      VARCHAR,
    event      VARCHAR,
    logger     VARCHAR,
    payload    JSON
);
