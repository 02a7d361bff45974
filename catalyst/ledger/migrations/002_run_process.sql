-- Catalyst ledger, schema version 2: the process that runs a run.
-- A run left `running` by a process that died (SIGKILL, a crashed machine) is recognised by its
-- pid on its host: reconciliation closes it out (status `crashed`) when that process is gone.
-- `pid_started` is the process's start time (seconds since the epoch, from /proc), so a pid the
-- kernel reused for another process is not taken for the run's.

ALTER TABLE runs ADD COLUMN pid BIGINT;
ALTER TABLE runs ADD COLUMN host VARCHAR;
ALTER TABLE runs ADD COLUMN pid_started DOUBLE;
