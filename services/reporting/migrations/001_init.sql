-- reporting schema: platform tables (outbox, inbox, revoked_sessions, providers) come from shared/migrations.
COMMENT ON SCHEMA reporting IS 'ICP reporting service: read models built from events';
