-- Validation in chunks that any importer worker takes (issue 14): the worker that read the file
-- stages its rows and plans validation chunks (whole subjects, in key order, packed as the import
-- chunks are); each is an `importer.chunk.validate` command on the importer's queue.

ALTER TABLE import_jobs ADD COLUMN vchunks_total integer;  -- set when the chunks are published
ALTER TABLE import_jobs ADD COLUMN vchunks_done integer NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN read_errors integer NOT NULL DEFAULT 0;  -- errors found while reading

CREATE TABLE import_vchunks (
    job_id     uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    vchunk_no  integer NOT NULL,
    keys       text[] NOT NULL,          -- the subject keys, in order
    state      text NOT NULL DEFAULT 'SENT' CHECK (state IN ('SENT', 'DONE')),
    sent_at    timestamptz NOT NULL DEFAULT now(),
    takes      integer NOT NULL DEFAULT 0,  -- deliveries that started it (a redelivery counts again)
    taken_by   text,                        -- the worker that started it last
    done_by    text,                        -- the worker whose result was recorded (once)
    errors     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, vchunk_no)
);

-- A chunk's row errors, until the last chunk merges every chunk's into import_errors in file order.
CREATE UNLOGGED TABLE import_chunk_errors (
    job_id    uuid NOT NULL,
    vchunk_no integer NOT NULL,
    pos       integer NOT NULL,   -- the subject's position in the chunk (errors in file order)
    seq       integer NOT NULL,
    sheet     text NOT NULL,
    row_no    integer,
    col       integer,
    column_name text,
    field     text,
    value     text,
    message   text NOT NULL,
    PRIMARY KEY (job_id, vchunk_no, seq)
);

-- The keys a file may hold once (a subject's certificate, principal mobiles, domains, the generated
-- username), of every subject that passed its own rules: the last chunk finds the repeats across the
-- whole file in one query. kind: 1 certificate, 2 domain, 3 mobile, 4 username.
CREATE UNLOGGED TABLE import_keys (
    job_id    uuid NOT NULL,
    kind      smallint NOT NULL,
    key       text NOT NULL,
    vchunk_no integer NOT NULL,
    pos       integer NOT NULL,   -- subject and occurrence order within the chunk
    subject   text NOT NULL,      -- the subject key
    sheet     smallint NOT NULL,  -- the cell to report a repeat at: 1 主体, 2 网站
    row_no    integer NOT NULL,
    field     text NOT NULL,
    value     text NOT NULL,
    first_row integer NOT NULL,   -- the row a later repeat names (subject row; website row for a domain)
    quiet     boolean NOT NULL DEFAULT false  -- the cell was reported while reading: no second error
);
-- No index: rows are written once per chunk and read once per job (a hash aggregate of the job's rows);
-- an index on the random keys would cost more than it saves.
