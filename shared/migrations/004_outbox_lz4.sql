-- The outbox's bodies (a filing's event carries its whole snapshot: 2–4 KB) are compressed with lz4
-- rather than pglz where the server has it: pglz was ~8 % of PostgreSQL's CPU writing an import
-- chunk, lz4 costs a fraction of that at a similar size (issue 14, bench/README.md). Only values
-- written from now on; a server built without lz4 keeps pglz.
DO $$
BEGIN
    IF 'lz4' = ANY (SELECT unnest(enumvals) FROM pg_settings WHERE name = 'default_toast_compression') THEN
        ALTER TABLE outbox ALTER COLUMN body SET COMPRESSION lz4;
    END IF;
END $$;
