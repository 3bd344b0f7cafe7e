-- filing owns the authoritative provider (tenant) records; the platform table gets its extra columns.
ALTER TABLE providers
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN created_by text;
