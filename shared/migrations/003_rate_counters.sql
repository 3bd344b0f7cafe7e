-- Per-client-address rate limits (shared/ratelimit.py), one counter per (what, client address) in
-- every service's schema, so that all replicas of a service count together. Two buckets per row
-- (this window and the one before) approximate a sliding window. Rows are purged by the platform's
-- housekeeping (the outbox relay) once both buckets have passed: expires_at, so that the purge
-- needs no knowledge of each limit's window. No index on expires_at: every counted request
-- updates the row and an unindexed column keeps that a HOT update; the purge scans a small table.
-- (filing's older fixed-window table rate_limits, its migration 080, is no longer written; a later
-- filing migration drops it once no replica of the previous version runs.)
CREATE TABLE rate_counters (
    bucket       text NOT NULL,
    client       text NOT NULL,
    window_start timestamptz NOT NULL,   -- start of the current window (the client's first hit, then steps of it)
    hits         integer NOT NULL,       -- allowed hits in the current window
    prev_hits    integer NOT NULL,       -- allowed hits in the window before
    allowed      boolean NOT NULL,       -- whether the latest hit was allowed (read back by RETURNING)
    expires_at   timestamptz NOT NULL,   -- window_start + 2 windows: nothing here counts after that
    PRIMARY KEY (bucket, client)
) WITH (fillfactor = 70);
