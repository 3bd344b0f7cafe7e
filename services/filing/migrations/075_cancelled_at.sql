-- When a website / subject was cancelled (注销), for the statistics of the read models
-- (filing.record.changed carries it).
ALTER TABLE subjects ADD COLUMN cancelled_at timestamptz;
ALTER TABLE websites ADD COLUMN cancelled_at timestamptz;
