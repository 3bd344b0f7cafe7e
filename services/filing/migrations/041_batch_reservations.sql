-- Batch import reservations (importer → filing.batch.check with reserve_hours): when a chunk of an
-- import file passes its dry run, its certificates, principal mobiles and domains are reserved for
-- that job until its chunk is imported (deleted in the chunk's transaction), the job ends
-- (importer.job.finished) or the reservation expires. Another file, or a filing entered meanwhile,
-- that needs one of these keys is refused ("conflict with a file being imported"), so a file that
-- passed its check is imported whole. One row per key: the primary key serialises two files
-- reserving the same key at the same time (the second waits, then sees the first's row).
CREATE TABLE batch_reservations (
    kind        text NOT NULL CHECK (kind IN ('cert', 'mobile', 'domain')),
    key         text NOT NULL,          -- cert: "<family>:<number>"; mobile; domain (ASCII)
    job_id      text NOT NULL,
    chunk_no    integer NOT NULL,
    provider_id text NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX batch_reservations_job ON batch_reservations (job_id, chunk_no);
CREATE INDEX batch_reservations_expiry ON batch_reservations (expires_at);
