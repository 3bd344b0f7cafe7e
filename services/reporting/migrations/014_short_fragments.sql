-- Name fragments of 1–2 characters (the common case for Chinese names) through an index: trigram
-- indexes need 3 characters, so such a fragment scanned every website. name_grams is the set of the
-- lower-cased name's characters and pairs of adjacent characters; "name ILIKE '%xy%'" holds exactly
-- when name_grams(name) @> ARRAY[lower('xy')] (ILIKE compares lower-cased text, and lower() maps
-- character to character), so the GIN index below finds the matches and ILIKE stays the condition.
-- An expression index, not a column: the projection and the rebuild write the tables as before.
CREATE FUNCTION name_grams(s text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(substr(l, i, n)), '{}')
      FROM pg_catalog.lower(s) AS l, generate_series(1, length(l)) AS i, generate_series(1, 2) AS n
     WHERE i + n - 1 <= length(l)
$$;
CREATE INDEX websites_name_grams ON websites USING gin (name_grams(name));
CREATE INDEX websites_sponsor_grams ON websites USING gin (name_grams(sponsor_name));
CREATE INDEX applications_sponsor_grams ON applications USING gin (name_grams(sponsor_name));
