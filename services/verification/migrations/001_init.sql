-- verification schema: platform tables (outbox, inbox, revoked_sessions, providers) come from shared/migrations.
COMMENT ON SCHEMA verification IS 'ICP verification service';
