-- Batch import (importer → filing.batch.import): one row per imported chunk, written in the
-- chunk's transaction, so a chunk delivered again (redelivery, or resent by the importer after
-- a stall) creates nothing twice and gets the same answer. Inserted first: a concurrent
-- duplicate waits on the primary key until the first commits.
CREATE TABLE batch_chunks (
    job_id     text NOT NULL,
    chunk_no   integer NOT NULL,
    provider_id text NOT NULL,
    reply      jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, chunk_no)
);
