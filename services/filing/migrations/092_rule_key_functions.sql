-- The keys the rules query of a first filing looks up (`services/filing/entry/bulk.py`, `_CONFLICTS_TEMPLATE`),
-- as set-returning functions with a row estimate of their own. With `unnest($n)` the planner knows the
-- array's length only when it plans with the values: the generic plan estimated 10 keys per array, cost twice
-- the custom plans of a group commit's few submits, so PostgreSQL planned the whole statement (~25 relations,
-- ~0.9 ms) on every execution (bench/README.md, "Submit", fourth round). With these the estimate is the same
-- with or without the values, and the plan cache keeps the generic plan (the same index probes per key).
-- `SET search_path` keeps them from being inlined (an inlined body is `unnest` again) and pins what they name.
CREATE FUNCTION rule_keys(keys text[]) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 8 SET search_path = pg_catalog
    AS $$ SELECT unnest(keys) $$;

CREATE FUNCTION rule_key_pairs(lefts text[], rights text[]) RETURNS TABLE (l text, r text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 8 SET search_path = pg_catalog
    AS $$ SELECT * FROM unnest(lefts, rights) $$;
