-- Opening a case costs less PostgreSQL CPU (issue 14, bench/README.md "Verification opening cases"):
-- * the application is kept as the JSON text it arrived in (json: checked, not rebuilt; as jsonb, parsing
--   it into the binary form — key sorting, string unescaping — was a third of the backend's CPU per case).
--   Verification never queries inside it: it is read whole (the case's detail, the approval's numbers).
-- * compressed with lz4 rather than pglz (pglz was 15 % of the backend's CPU per case); a server built
--   without lz4 keeps pglz.
-- * case ids are time-ordered (UUID version 7): a new case's index entries (cases, case_versions,
--   case_history) land on the rightmost pages instead of a random page of each index.
ALTER TABLE cases ALTER COLUMN application TYPE json USING application::json;
ALTER TABLE case_versions ALTER COLUMN application TYPE json USING application::json;
DO $$
BEGIN
    ALTER TABLE cases ALTER COLUMN application SET COMPRESSION lz4;
    ALTER TABLE case_versions ALTER COLUMN application SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;

-- UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds, the version, random bits.
CREATE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
        52, 1), 53, 1), 'hex')::uuid
$$;
ALTER TABLE cases ALTER COLUMN id SET DEFAULT uuid_v7();
