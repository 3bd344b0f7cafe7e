-- Counters per access method beside those of 013: the statistics by access method (a bureau's or the
-- admin's) read a few thousand counter rows instead of every website of the province (an index-only scan
-- of ~171,000 entries for a large province at 1,000,000 websites: 34 ms p50, one round in 30 over 200 ms).
-- A website counts once for each of its `stat_access_methods`, as the scan's unnest counts it; the totals
-- row still counts websites (from website_daily/monthly, or from these when one access method is asked).
-- Same rule as 013: a counter back at 0 goes, so the rebuild reaches the same rows.
CREATE TABLE website_access_daily (
    day           date NOT NULL,
    province      text NOT NULL,
    nature        text NOT NULL,
    filing_method text NOT NULL,
    access_method text NOT NULL,
    delta         bigint NOT NULL,
    PRIMARY KEY (day, province, nature, filing_method, access_method)
);
CREATE TABLE website_access_monthly (
    month         date NOT NULL,  -- first day of the month
    province      text NOT NULL,
    nature        text NOT NULL,
    filing_method text NOT NULL,
    access_method text NOT NULL,
    delta         bigint NOT NULL,
    PRIMARY KEY (month, province, nature, filing_method, access_method)
);

CREATE FUNCTION website_access_counts_add(r websites, sign integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d date;
    s integer;
    m text;
BEGIN
    FOR d, s IN SELECT (r.approved_at AT TIME ZONE 'Asia/Shanghai')::date, sign
                UNION ALL
                SELECT (r.cancelled_at AT TIME ZONE 'Asia/Shanghai')::date, -sign WHERE r.cancelled_at IS NOT NULL
    LOOP
        FOREACH m IN ARRAY r.stat_access_methods LOOP
            INSERT INTO website_access_daily AS t VALUES (d, r.province, r.nature, r.filing_method, m, s)
                ON CONFLICT (day, province, nature, filing_method, access_method)
                DO UPDATE SET delta = t.delta + EXCLUDED.delta;
            INSERT INTO website_access_monthly AS t
                VALUES (date_trunc('month', d)::date, r.province, r.nature, r.filing_method, m, s)
                ON CONFLICT (month, province, nature, filing_method, access_method)
                DO UPDATE SET delta = t.delta + EXCLUDED.delta;
            DELETE FROM website_access_daily WHERE day = d AND province = r.province AND nature = r.nature
               AND filing_method = r.filing_method AND access_method = m AND delta = 0;
            DELETE FROM website_access_monthly WHERE month = date_trunc('month', d)::date AND province = r.province
               AND nature = r.nature AND filing_method = r.filing_method AND access_method = m AND delta = 0;
        END LOOP;
    END LOOP;
END $$;

CREATE FUNCTION websites_access_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM website_access_counts_add(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM website_access_counts_add(NEW, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER websites_access_count
    AFTER INSERT OR UPDATE OF approved_at, cancelled_at, province, nature, filing_method, stat_access_methods
    OR DELETE ON websites FOR EACH ROW EXECUTE FUNCTION websites_access_count();

-- what is there already, in one statement (also the bench's bulk loader, with the trigger disabled)
CREATE FUNCTION website_access_counts_fill() RETURNS void LANGUAGE sql AS $$
INSERT INTO website_access_daily
SELECT d, province, nature, filing_method, m, sum(s) FROM (
    SELECT (approved_at AT TIME ZONE 'Asia/Shanghai')::date AS d, province, nature, filing_method, m, 1 AS s
      FROM websites, unnest(stat_access_methods) AS m
    UNION ALL
    SELECT (cancelled_at AT TIME ZONE 'Asia/Shanghai')::date, province, nature, filing_method, m, -1
      FROM websites, unnest(stat_access_methods) AS m WHERE cancelled_at IS NOT NULL) x
GROUP BY 1, 2, 3, 4, 5 HAVING sum(s) <> 0;
INSERT INTO website_access_monthly
SELECT date_trunc('month', day)::date, province, nature, filing_method, access_method, sum(delta)
  FROM website_access_daily GROUP BY 1, 2, 3, 4, 5 HAVING sum(delta) <> 0;
$$;
SELECT website_access_counts_fill();
