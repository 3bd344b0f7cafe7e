-- importer schema: platform tables (outbox, inbox, revoked_sessions, providers) come from shared/migrations.
COMMENT ON SCHEMA importer IS 'ICP importer service';
