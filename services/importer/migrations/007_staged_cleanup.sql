-- What a finished job staged (its rows, file-wide keys, chunk payloads and, once completed, its upload) is
-- deleted by a worker's job loop after the transaction that finishes the job (`worker.tidy`), not inside
-- it: for a 100,000-row file that was seconds on the job's critical path, under the job row's lock.
ALTER TABLE import_jobs ADD COLUMN cleanup_pending boolean NOT NULL DEFAULT false;
CREATE INDEX import_jobs_cleanup_pending ON import_jobs (id) WHERE cleanup_pending;
