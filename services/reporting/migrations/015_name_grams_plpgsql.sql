-- name_grams as a PL/pgSQL loop: the same arrays, 5–7× fewer CPU-seconds than the SQL function of 014
-- (which ran a query per call). It is the condition wherever the planner walks the date index or scans
-- the table instead of reading the GIN index (a frequent fragment), so its cost per row counts.
CREATE OR REPLACE FUNCTION name_grams(s text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    c text[] := string_to_array(lower(s), NULL);
    r text[] := c;
BEGIN
    FOR i IN 1 .. cardinality(c) - 1 LOOP
        r := r || (c[i] || c[i + 1]);
    END LOOP;
    RETURN r;
END $$;
