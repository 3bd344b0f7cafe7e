-- Personal data (issue 9): the audit trail recorded a personal subject's certificate number (the
-- person's ID number) in full, though it masked the principals' ID numbers. Writers now mask it
-- (services/filing/audit.py); this masks the rows already stored, the way shared.validate.mask_id_number
-- does: the first min(6, n/3) and last min(4, n/4) characters kept, the rest '*'. Masking a masked
-- value changes nothing, so the statement is safe to run on any state.

CREATE OR REPLACE FUNCTION pg_temp.icp_mask_id(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN t IS NULL OR t = '' THEN t
        WHEN char_length(t) / 4 = 0 THEN repeat('*', char_length(t))
        ELSE left(t, least(6, char_length(t) / 3))
             || repeat('*', char_length(t) - least(6, char_length(t) / 3) - least(4, char_length(t) / 4))
             || right(t, least(4, char_length(t) / 4))
    END
$$;

-- a recorded value: the number itself, or [old, new] of a change
CREATE OR REPLACE FUNCTION pg_temp.icp_mask_value(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE jsonb_typeof(j)
        WHEN 'string' THEN to_jsonb(pg_temp.icp_mask_id(j #>> '{}'))
        WHEN 'array' THEN (
            SELECT coalesce(jsonb_agg(CASE WHEN jsonb_typeof(x) = 'string' THEN to_jsonb(pg_temp.icp_mask_id(x #>> '{}'))
                                           ELSE x END ORDER BY n), '[]'::jsonb)
            FROM jsonb_array_elements(j) WITH ORDINALITY AS e(x, n))
        ELSE j
    END
$$;

-- subjects that are personal, or were in any recorded change (PERSONAL → organisation is allowed)
WITH personal AS (
    SELECT id FROM subjects WHERE nature = 'PERSONAL'
    UNION
    SELECT subject_id FROM audit_log
    WHERE entity = 'subject' AND (changes->>'nature' = 'PERSONAL' OR changes->'nature' ? 'PERSONAL')
)
UPDATE audit_log a
   SET changes = jsonb_set(a.changes, '{cert_number}', pg_temp.icp_mask_value(a.changes->'cert_number'))
 WHERE a.changes ? 'cert_number' AND a.subject_id IN (SELECT id FROM personal WHERE id IS NOT NULL);
