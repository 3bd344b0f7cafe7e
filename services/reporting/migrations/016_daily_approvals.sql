-- Websites approved per day and per month (China time) next to the net counters of 013: the statistics
-- by month (approvals in 36 windows over 25 months) read a few thousand counter rows instead of every
-- website approved in those months (907 ms p50 nationwide at 1,000,000 websites). Same trigger, same
-- rule: a row goes when both its numbers are back at 0, so the rebuild reaches the same rows.
ALTER TABLE website_daily ADD COLUMN approved bigint NOT NULL DEFAULT 0;
ALTER TABLE website_monthly ADD COLUMN approved bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION website_counts_add(r websites, sign integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d date;
    s integer;
    a integer;
BEGIN
    FOR d, s, a IN SELECT (r.approved_at AT TIME ZONE 'Asia/Shanghai')::date, sign, sign
                   UNION ALL
                   SELECT (r.cancelled_at AT TIME ZONE 'Asia/Shanghai')::date, -sign, 0 WHERE r.cancelled_at IS NOT NULL
    LOOP
        INSERT INTO website_daily AS t VALUES (d, r.province, r.nature, r.filing_method, s, a)
            ON CONFLICT (day, province, nature, filing_method)
            DO UPDATE SET delta = t.delta + EXCLUDED.delta, approved = t.approved + EXCLUDED.approved;
        INSERT INTO website_monthly AS t VALUES (date_trunc('month', d)::date, r.province, r.nature, r.filing_method, s, a)
            ON CONFLICT (month, province, nature, filing_method)
            DO UPDATE SET delta = t.delta + EXCLUDED.delta, approved = t.approved + EXCLUDED.approved;
        DELETE FROM website_daily WHERE day = d AND province = r.province AND nature = r.nature
           AND filing_method = r.filing_method AND delta = 0 AND approved = 0;
        DELETE FROM website_monthly WHERE month = date_trunc('month', d)::date AND province = r.province
           AND nature = r.nature AND filing_method = r.filing_method AND delta = 0 AND approved = 0;
    END LOOP;
END $$;

-- what is there already (a day whose net delta is 0 had no row)
INSERT INTO website_daily AS t
SELECT (approved_at AT TIME ZONE 'Asia/Shanghai')::date, province, nature, filing_method, 0, count(*)
  FROM websites GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, province, nature, filing_method) DO UPDATE SET approved = EXCLUDED.approved;
INSERT INTO website_monthly AS t
SELECT date_trunc('month', approved_at AT TIME ZONE 'Asia/Shanghai')::date, province, nature, filing_method, 0, count(*)
  FROM websites GROUP BY 1, 2, 3, 4
    ON CONFLICT (month, province, nature, filing_method) DO UPDATE SET approved = EXCLUDED.approved;
