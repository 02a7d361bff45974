-- Catalyst ledger, schema version 3: how far each process journal has been ingested.
-- Appends to event tables are first written to a per-process journal next to the ledger
-- (<ledger>.journal/*.jnl, see catalyst/ledger/journal.py) and moved into these tables by
-- whichever Catalyst process takes the ledger lock next. This table records, per journal file, the
-- byte offset up to which its records are in the ledger; it is updated in the same transaction as
-- the rows, so a record is ingested exactly once even if the ingesting process is killed.
-- Rows of journals that are fully ingested and deleted are removed.

CREATE TABLE IF NOT EXISTS journal_ingest (
    journal         VARCHAR PRIMARY KEY,      -- file name inside <ledger>.journal/
    ingested_bytes  BIGINT NOT NULL,
    records         BIGINT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
