-- A least-privilege PostgreSQL role for the ledger application (DESIGN §6, §8).
--
-- Run it as the owner of the schema, after `ledger init` (also run as the owner) has created
-- every table — the events, the views and their tracking table, the audit's tables, the
-- credentials and the web's — with their append-only guards:
--
--   LEDGER_DATABASE_URL="postgresql://owner@host/db?schema=ledger" ledger init
--   psql "postgresql://owner@host/db" -v schema=ledger -v role=ledger_app \
--        -v password='choose-one' -f scripts/create_app_role.sql
--
-- and then point the application at the new role:
--   LEDGER_DATABASE_URL=postgresql://ledger_app:choose-one@host/db?schema=ledger
--
-- `ledger serve`, `ledger worker`, `ledger project`, `ledger import`, `ledger record`, `ledger
-- audit sign` and `ledger audit verify` then run as the role; none of them sends DDL. A
-- command that finds a table missing says to run `ledger init` as the owner (exit status 2).
-- `ledger init` and `ledger project --rebuild` (which may recreate the view tables) run as the
-- owner. The script is idempotent: run it again after `ledger init` on a newer version, or
-- after a rebuild that recreated tables, to grant on what is new.
--
-- What the role may do, table by table (and nothing on any other table):
--   * the append-only tables — the events (`*_events`) and the audit's `audit_leaves`,
--     `audit_nodes`, `audit_tree_heads` and `audit_verifications`: SELECT and INSERT. The
--     append-only triggers (ledger/guards.py) refuse UPDATE, DELETE and TRUNCATE for
--     everyone, and the role owns nothing, so it cannot drop them: it cannot delete or change
--     the log, its Merkle tree, its tree heads or the history of verifications.
--     PostgreSQL lets only a holder of UPDATE, DELETE or TRUNCATE take the EXCLUSIVE table
--     lock eventsourcing uses to serialise inserts (so that positions become visible in
--     order); the role is therefore granted UPDATE on the events tables alone, which the
--     trigger then refuses row by row.
--   * the views (`pv_*`) and their tracking table (`projection_tracking`): SELECT, INSERT,
--     UPDATE and DELETE — they are disposable and rebuilt from the events. No TRUNCATE.
--   * the credentials (`ledger_credentials`, password and token hashes: mutable, outside the
--     log) and the web's tables (`web_*`): SELECT, INSERT, UPDATE and DELETE.
--   * the sequences (ids of events, heads, verifications): USAGE.
--   * no CREATE on the schema, no ownership of anything.

\set ON_ERROR_STOP on

-- Refuse to grant before `ledger init`: every append-only table must exist with its guards.
SELECT format(
  'DO $m$ BEGIN RAISE EXCEPTION %L; END $m$',
  'schema ' || :'schema' || ' lacks ' || string_agg(needed, ', ')
  || ': run `ledger init` as the owner first (请先以所有者身份运行 ledger init)')
FROM (
  SELECT needed FROM unnest(ARRAY[
    'audit_leaves', 'audit_nodes', 'audit_tree_heads', 'audit_verifications', 'audit_checkpoints',
    'audit_witnesses', 'audit_cosignatures', 'audit_replay_snapshots',
    'projection_tracking'
  ]) AS needed
  WHERE to_regclass(format('%I.%I', :'schema', needed)) IS NULL
  UNION ALL
  SELECT 'an events table' WHERE NOT EXISTS (
    SELECT 1 FROM pg_tables WHERE schemaname = :'schema'
      AND tablename LIKE '%\_events' ESCAPE '\')
  UNION ALL
  SELECT format('the trigger %s', trigger_name)
  FROM pg_tables t
  CROSS JOIN LATERAL unnest(ARRAY[t.tablename || '_no_update', t.tablename || '_no_delete',
                                  t.tablename || '_no_truncate']) AS trigger_name
  WHERE t.schemaname = :'schema'
    AND (t.tablename LIKE '%\_events' ESCAPE '\'
         OR t.tablename IN ('audit_leaves', 'audit_nodes', 'audit_tree_heads',
                            'audit_verifications', 'audit_checkpoints',
                            'audit_witnesses', 'audit_cosignatures',
                            'audit_replay_snapshots'))
    AND NOT EXISTS (
      SELECT 1 FROM pg_trigger g
      WHERE g.tgrelid = format('%I.%I', t.schemaname, t.tablename)::regclass
        AND g.tgname = trigger_name)
) AS missing
HAVING count(*) > 0 \gexec

SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec

SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password') \gexec

GRANT USAGE ON SCHEMA :"schema" TO :"role";
REVOKE CREATE ON SCHEMA :"schema" FROM :"role";
REVOKE ALL ON ALL TABLES IN SCHEMA :"schema" FROM :"role";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA :"schema" FROM :"role";

-- The append-only tables: read and append.
SELECT format('GRANT SELECT, INSERT ON %I.%I TO %I', schemaname, tablename, :'role')
FROM pg_tables
WHERE schemaname = :'schema'
  AND (tablename LIKE '%\_events' ESCAPE '\'
       OR tablename IN ('audit_leaves', 'audit_nodes', 'audit_tree_heads',
                        'audit_verifications', 'audit_checkpoints',
                        'audit_witnesses', 'audit_cosignatures',
                        'audit_replay_snapshots')) \gexec

-- Only for LOCK TABLE … IN EXCLUSIVE MODE (the trigger refuses every UPDATE).
SELECT format('GRANT UPDATE ON %I.%I TO %I', schemaname, tablename, :'role')
FROM pg_tables
WHERE schemaname = :'schema' AND tablename LIKE '%\_events' ESCAPE '\' \gexec

-- The views and their tracking, the credentials, the web's tables: the mutable tables.
SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO %I',
              schemaname, tablename, :'role')
FROM pg_tables
WHERE schemaname = :'schema'
  AND (tablename LIKE 'pv\_%' ESCAPE '\'
       OR tablename LIKE 'web\_%' ESCAPE '\'
       OR tablename IN ('projection_tracking', 'ledger_credentials')) \gexec

GRANT USAGE ON ALL SEQUENCES IN SCHEMA :"schema" TO :"role";
