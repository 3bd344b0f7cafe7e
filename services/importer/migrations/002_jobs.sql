-- Batch import (批量导入, DESIGN §4.3): jobs, the uploaded file, staged rows, errors, chunks, results.
-- Pods share no disk: the upload and the result workbook live here (bytea).

CREATE TABLE import_jobs (
    id                uuid PRIMARY KEY,
    provider_id       text NOT NULL,
    created_by        text NOT NULL,
    filename          text NOT NULL,
    size_bytes        integer NOT NULL,
    template_version  integer,
    file_columns      jsonb,                      -- sheet → machine names of the file's columns, in file order
    status            text NOT NULL DEFAULT 'QUEUED'
                      CHECK (status IN ('QUEUED', 'VALIDATING', 'CHECKING', 'IMPORTING', 'COMPLETED', 'REJECTED', 'FAILED')),
    message           text,                       -- Chinese summary of a rejection / failure
    rows_total        integer,                    -- website rows of the file (known after reading)
    subjects_total    integer,
    rows_read         integer NOT NULL DEFAULT 0, -- subject + website rows read from the file
    rows_validated    integer NOT NULL DEFAULT 0, -- website rows checked with their subject (FilingData)
    rows_imported     integer NOT NULL DEFAULT 0, -- website rows created in filing
    subjects_imported integer NOT NULL DEFAULT 0,
    chunks_total      integer,
    chunks_checked    integer NOT NULL DEFAULT 0,
    chunks_done       integer NOT NULL DEFAULT 0,
    error_count       integer NOT NULL DEFAULT 0,
    lease_owner       text,
    lease_until       timestamptz,
    attempts          integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    result_expires_at timestamptz,
    purged_at         timestamptz
);
CREATE INDEX import_jobs_provider ON import_jobs (provider_id, created_at DESC);
CREATE INDEX import_jobs_queue ON import_jobs (created_at) WHERE status IN ('QUEUED', 'VALIDATING');

-- The uploaded workbook, kept until the job is done (and, when rejected, for errors.xlsx until purge).
CREATE TABLE import_files (
    job_id  uuid PRIMARY KEY REFERENCES import_jobs (id) ON DELETE CASCADE,
    content bytea NOT NULL
);

-- Rows read from the file (normalised cell texts in template column order), so one subject's
-- websites can be gathered from anywhere in the sheet with bounded memory. sheet: 1 主体, 2 网站.
CREATE UNLOGGED TABLE import_rows (
    job_id uuid NOT NULL,
    sheet  smallint NOT NULL,
    key    text NOT NULL,
    row_no integer NOT NULL,
    cells  text[] NOT NULL,
    bad    text[] NOT NULL DEFAULT '{}', -- columns already reported while reading (no second error)
    PRIMARY KEY (job_id, sheet, key, row_no)
);

CREATE TABLE import_errors (
    job_id  uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    seq     integer NOT NULL,
    sheet   text NOT NULL,
    row_no  integer,          -- 1-based Excel row; NULL for file-level errors
    col     integer,          -- 1-based Excel column
    column_name text,         -- the Chinese header
    field   text,             -- machine name of the column
    value   text,
    message text NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- One chunk = whole subjects with up to ICP_IMPORT_CHUNK_WEBSITES websites; `items` is the sealed
-- payload of the filing.batch.* commands; `refs` maps each item back to its rows (for errors).
CREATE TABLE import_chunks (
    job_id      uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    chunk_no    integer NOT NULL,
    subjects    integer NOT NULL,
    websites    integer NOT NULL,
    items       text,
    refs        jsonb NOT NULL,
    check_state text NOT NULL DEFAULT 'PENDING' CHECK (check_state IN ('PENDING', 'SENT', 'DONE')),
    state       text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'SENT', 'DONE', 'FAILED')),
    sent_at     timestamptz,
    conflicts   jsonb,
    application_ids jsonb,
    PRIMARY KEY (job_id, chunk_no)
);

-- The credentials workbook (subject name, username, password), sealed at rest; the only place
-- the generated plaintext passwords exist. Deleted at expiry.
CREATE TABLE import_results (
    job_id     uuid PRIMARY KEY REFERENCES import_jobs (id) ON DELETE CASCADE,
    content    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
