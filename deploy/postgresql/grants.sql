-- Privileges for the application's database role on PostgreSQL.
--
-- Run after `samsyn db upgrade`, as the role that owns the tables (the migration role), e.g.
--   psql "$OWNER_URL" -v ON_ERROR_STOP=1 -f deploy/postgresql/grants.sql
-- The application connects as `samsyn_app` (created with LOGIN and a password of your
-- choosing); it must never own the tables: an owner can disable triggers.
--
-- What it leaves the application:
--   * business tables: SELECT, INSERT, UPDATE, DELETE;
--   * the audit log (audit_event, audit_leaf, audit_node, audit_checkpoint): SELECT and
--     INSERT only, so the log cannot be changed even if the append-only triggers were gone;
--   * the sequencer's queue (audit_pending): SELECT, INSERT and DELETE (a trigger queues each
--     new event; the sequencer takes it off when the event has its position);
--   * alembic_version: SELECT (migrations run as the owner, not as the application).

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO samsyn_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO samsyn_app;

REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON audit_event, audit_leaf, audit_node, audit_checkpoint FROM samsyn_app;
GRANT SELECT, INSERT ON audit_event, audit_leaf, audit_node, audit_checkpoint TO samsyn_app;

-- The release ledger of published statistics never changes either (issue 14).
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON statistics_release FROM samsyn_app;
GRANT SELECT, INSERT ON statistics_release TO samsyn_app;

REVOKE UPDATE, TRUNCATE, REFERENCES, TRIGGER ON audit_pending FROM samsyn_app;
GRANT SELECT, INSERT, DELETE ON audit_pending TO samsyn_app;

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM samsyn_app;
GRANT SELECT ON alembic_version TO samsyn_app;
