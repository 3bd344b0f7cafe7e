-- filing.record.changed (services/filing/record_events.py): a counter per subject, so that consumers
-- keep the newest state whatever order the events arrive in.
ALTER TABLE subjects ADD COLUMN record_seq bigint NOT NULL DEFAULT 0;

-- Filing's own projection of the filing blacklist (备案信息黑名单), fed by detection.blacklist.changed:
-- the active entries; filing refuses new filings, added websites and changes naming a listed
-- certificate (by its digest, shared.blacklist) or domain.
CREATE TABLE blacklist (
    entry_id     uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('SUBJECT', 'WEBSITE')),
    cert_digest  text NOT NULL DEFAULT '',
    domains      text[] NOT NULL DEFAULT '{}',
    reason       text NOT NULL,
    active       boolean NOT NULL,
    changed_at   timestamptz NOT NULL
);
CREATE INDEX blacklist_cert ON blacklist (cert_digest) WHERE active AND kind = 'SUBJECT';
CREATE INDEX blacklist_domains ON blacklist USING gin (domains) WHERE active;
