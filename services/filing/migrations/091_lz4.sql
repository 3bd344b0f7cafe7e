-- The large values a filing writes (the version's payload, audit entries' changes, principals) are
-- compressed with lz4 rather than pglz where the server has it (see the platform's 004_outbox_lz4):
-- ~7 % less PostgreSQL CPU per imported subject (`bench/submit_serial.py bulk`, issue 14).
DO $$
BEGIN
    IF 'lz4' = ANY (SELECT unnest(enumvals) FROM pg_settings WHERE name = 'default_toast_compression') THEN
        ALTER TABLE application_versions ALTER COLUMN payload SET COMPRESSION lz4;
        ALTER TABLE audit_log ALTER COLUMN changes SET COMPRESSION lz4;
        ALTER TABLE subjects ALTER COLUMN principal SET COMPRESSION lz4;
        ALTER TABLE websites ALTER COLUMN principal SET COMPRESSION lz4;
    END IF;
END $$;
