-- A least-privilege PostgreSQL role for the ledger application (DESIGN §6, §8).
--
-- Run it as the owner of the schema, after the schema and its tables exist (start the ledger
-- once as the owner, e.g. `ledger init`, then `ledger audit sign`, and let the worker create
-- the views):
--
--   psql "postgresql://owner@host/db" -v schema=ledger -v role=ledger_app \
--        -v password='choose-one' -f scripts/create_app_role.sql
--
-- and then point the application at the new role:
--   LEDGER_DATABASE_URL=postgresql://ledger_app:choose-one@host/db?schema=ledger
--
-- What the role may do:
--   * the event log and the audit's tables (events, tree heads, Merkle leaves and nodes):
--     SELECT and INSERT only; the append-only triggers (ledger/guards.py) refuse UPDATE, DELETE
--     and TRUNCATE for everyone, and the role owns nothing, so it cannot drop the triggers.
--     PostgreSQL lets only a holder of UPDATE, DELETE or TRUNCATE take the EXCLUSIVE table lock
--     eventsourcing uses to serialise inserts (so that positions become visible in order); the
--     role is therefore granted UPDATE on the events table alone, which the trigger then
--     refuses row by row. It is granted no DELETE and no TRUNCATE anywhere in that list.
--   * the read models (projection tables, tracking) and the verification results: SELECT,
--     INSERT, UPDATE and DELETE — they are disposable and rebuilt from the events.
--   * no CREATE on the schema, no ownership of anything.
--
-- The role cannot create tables, so the schema's owner must create them first (above), and the
-- application must not try to: run it with eventsourcing's CREATE_TABLE=n. (As of this script,
-- ledger/storage.py still sets CREATE_TABLE=y and runs CREATE SCHEMA IF NOT EXISTS, and the
-- projections create their tables on start; both need a switch before the role can run them.
-- The audit checks that its tables exist before it creates any.)

\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec

SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password') \gexec

GRANT USAGE ON SCHEMA :"schema" TO :"role";
REVOKE CREATE ON SCHEMA :"schema" FROM :"role";
REVOKE ALL ON ALL TABLES IN SCHEMA :"schema" FROM :"role";

-- Read models, tracking and verification results: the disposable tables.
SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO %I', schemaname, tablename, :'role')
FROM pg_tables
WHERE schemaname = :'schema'
  AND tablename NOT LIKE '%\_events' ESCAPE '\'
  AND tablename NOT IN ('audit_tree_heads', 'audit_leaves', 'audit_nodes') \gexec

-- The append-only tables: read and append.
SELECT format('GRANT SELECT, INSERT ON %I.%I TO %I', schemaname, tablename, :'role')
FROM pg_tables
WHERE schemaname = :'schema'
  AND (tablename LIKE '%\_events' ESCAPE '\'
       OR tablename IN ('audit_tree_heads', 'audit_leaves', 'audit_nodes')) \gexec

-- Only for LOCK TABLE … IN EXCLUSIVE MODE (the trigger refuses every UPDATE).
SELECT format('GRANT UPDATE ON %I.%I TO %I', schemaname, tablename, :'role')
FROM pg_tables
WHERE schemaname = :'schema' AND tablename LIKE '%\_events' ESCAPE '\' \gexec

GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"role";
