-- Files imported whole or not at all (issue 9), kept sealed, and annotated once.

-- The generated credentials of each chunk (subject key, name, username, password, domains), sealed
-- (shared.crypto, purpose import-result, context "<job_id>:<chunk_no>"): the result workbook is
-- built from the chunks filing committed, so the password of every account that exists can be
-- downloaded even when a later chunk fails. Replaces the one workbook per job.
ALTER TABLE import_chunks ADD COLUMN credentials bytea;
DROP TABLE import_results;

-- A file with row errors is still checked against the existing filings (rows that passed the local
-- rules, nothing reserved), so every error is reported in one pass; then rejected.
ALTER TABLE import_jobs ADD COLUMN check_only boolean NOT NULL DEFAULT false;

-- The annotated copy of a rejected file (errors.xlsx): built once by a worker after the rejection
-- (PENDING → BUILDING under a lease → READY, or NONE when it cannot be built), sealed; the upload
-- itself is deleted then. import_files.content is sealed too (purpose import-upload).
ALTER TABLE import_jobs ADD COLUMN annotation text
    CHECK (annotation IN ('PENDING', 'BUILDING', 'READY', 'NONE'));
ALTER TABLE import_files ADD COLUMN sealed boolean NOT NULL DEFAULT false;
CREATE TABLE import_annotated (
    job_id     uuid PRIMARY KEY REFERENCES import_jobs (id) ON DELETE CASCADE,
    content    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_jobs_annotation ON import_jobs (finished_at) WHERE annotation IN ('PENDING', 'BUILDING');
