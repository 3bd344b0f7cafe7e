-- Counters behind the nationwide and provincial statistics (1.7.4), kept by a trigger on `websites`
-- (so every path that writes websites — live events, the rebuild — keeps them exact): per day and per
-- month (China time), per (province, nature, filing method), +1 when a website was approved and -1
-- when it was cancelled. The number of websites filed at the end of day D is the sum of the months
-- before D's month plus D's month's days up to D: a few thousand rows instead of every website.
CREATE TABLE website_daily (
    day           date NOT NULL,
    province      text NOT NULL,
    nature        text NOT NULL,
    filing_method text NOT NULL,
    delta         bigint NOT NULL,
    PRIMARY KEY (day, province, nature, filing_method)
);
CREATE TABLE website_monthly (
    month         date NOT NULL,  -- first day of the month
    province      text NOT NULL,
    nature        text NOT NULL,
    filing_method text NOT NULL,
    delta         bigint NOT NULL,
    PRIMARY KEY (month, province, nature, filing_method)
);

CREATE FUNCTION website_counts_add(r websites, sign integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d date;
    s integer;
BEGIN
    FOR d, s IN SELECT (r.approved_at AT TIME ZONE 'Asia/Shanghai')::date, sign
                UNION ALL
                SELECT (r.cancelled_at AT TIME ZONE 'Asia/Shanghai')::date, -sign WHERE r.cancelled_at IS NOT NULL
    LOOP
        INSERT INTO website_daily AS t VALUES (d, r.province, r.nature, r.filing_method, s)
            ON CONFLICT (day, province, nature, filing_method) DO UPDATE SET delta = t.delta + EXCLUDED.delta;
        INSERT INTO website_monthly AS t VALUES (date_trunc('month', d)::date, r.province, r.nature, r.filing_method, s)
            ON CONFLICT (month, province, nature, filing_method) DO UPDATE SET delta = t.delta + EXCLUDED.delta;
        -- a counter back at 0 goes, so the tables hold the same rows however they were reached (rebuild)
        DELETE FROM website_daily WHERE day = d AND province = r.province AND nature = r.nature
           AND filing_method = r.filing_method AND delta = 0;
        DELETE FROM website_monthly WHERE month = date_trunc('month', d)::date AND province = r.province
           AND nature = r.nature AND filing_method = r.filing_method AND delta = 0;
    END LOOP;
END $$;

CREATE FUNCTION websites_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM website_counts_add(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM website_counts_add(NEW, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER websites_count AFTER INSERT OR UPDATE OF approved_at, cancelled_at, province, nature, filing_method
    OR DELETE ON websites FOR EACH ROW EXECUTE FUNCTION websites_count();

-- what is there already
INSERT INTO website_daily
SELECT d, province, nature, filing_method, sum(s) FROM (
    SELECT (approved_at AT TIME ZONE 'Asia/Shanghai')::date AS d, province, nature, filing_method, 1 AS s FROM websites
    UNION ALL
    SELECT (cancelled_at AT TIME ZONE 'Asia/Shanghai')::date, province, nature, filing_method, -1 FROM websites
     WHERE cancelled_at IS NOT NULL) x
GROUP BY 1, 2, 3, 4 HAVING sum(s) <> 0;
INSERT INTO website_monthly
SELECT date_trunc('month', day)::date, province, nature, filing_method, sum(delta) FROM website_daily GROUP BY 1, 2, 3, 4
HAVING sum(delta) <> 0;
