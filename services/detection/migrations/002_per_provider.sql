-- Detections keyed by (provider, domain) (issue 13: keyed by domain alone, another provider's
-- report took over a record), sightings keyed by the event id (the same id counts once over the bus
-- and over HTTP), handlings, source systems' API keys, the projection of filed records, blacklists.

ALTER TABLE detections RENAME TO detections_v1;
ALTER TABLE sightings RENAME TO sightings_v1;
ALTER INDEX detections_provider RENAME TO detections_v1_provider;
ALTER INDEX sightings_detection RENAME TO sightings_v1_detection;

-- 未备案网站检测结果: one per domain seen at one provider.
CREATE TABLE detections (
    id            bigserial PRIMARY KEY,
    provider_id   text NOT NULL,
    domain        text NOT NULL,  -- host as seen (A-label), e.g. www.example.cn
    province      text NOT NULL,  -- of the latest sighting (provinces.csv code)
    ip            text,           -- of the latest sighting
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    sightings     integer NOT NULL,
    -- the latest handling (every one is kept in `handlings`); closed: its code closes the case
    handling_code text,
    handling_note text,
    handled_by    text,
    handled_at    timestamptz,
    closed        boolean NOT NULL DEFAULT false,
    -- filed meanwhile: the domain was filed after it was detected
    filed_at      timestamptz,
    filed_no      text,
    UNIQUE (provider_id, domain)
);
CREATE INDEX detections_provider_seen ON detections (provider_id, last_seen DESC);
CREATE INDEX detections_province_seen ON detections (province, last_seen DESC);
CREATE INDEX detections_domain ON detections (domain);

-- 检测历史: every sighting; the event id is the envelope id (bus) or the item id (HTTP).
CREATE TABLE sightings (
    event_id      uuid PRIMARY KEY,
    provider_id   text NOT NULL,
    domain        text NOT NULL,
    ip            text,
    province      text NOT NULL,
    detected_at   timestamptz NOT NULL,
    source        text NOT NULL,
    source_system text,  -- the API key's source system (HTTP) or the envelope's producer (bus)
    url           text,
    title         text,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sightings_detection ON sightings (provider_id, domain, detected_at DESC);

INSERT INTO sightings (event_id, provider_id, domain, ip, province, detected_at, source)
SELECT s.message_id, s.provider_id, d.domain, s.ip, coalesce(s.province, ''), s.detected_at, s.source
  FROM sightings_v1 s JOIN detections_v1 d ON d.id = s.detection_id
 WHERE s.provider_id IS NOT NULL;
INSERT INTO detections (provider_id, domain, province, ip, first_seen, last_seen, sightings)
SELECT provider_id, domain, (array_agg(province ORDER BY detected_at DESC))[1],
       (array_agg(ip ORDER BY detected_at DESC))[1], min(detected_at), max(detected_at), count(*)
  FROM sightings GROUP BY provider_id, domain;
DROP TABLE sightings_v1;
DROP TABLE detections_v1;

-- 处理: every handling of a detection (codes/detection_handling.csv).
CREATE TABLE handlings (
    id           bigserial PRIMARY KEY,
    detection_id bigint NOT NULL REFERENCES detections (id),
    code         text NOT NULL,
    note         text NOT NULL DEFAULT '',
    handled_by   text NOT NULL,  -- user id, or "system" for filed-meanwhile
    handled_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handlings_detection ON handlings (detection_id, id);

-- Source systems allowed to POST detections (icp admin create-source); the key is shown once,
-- stored as its SHA-256 (a 256-bit random key needs no slow hash), found by its prefix.
CREATE TABLE sources (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL UNIQUE,
    key_prefix text NOT NULL UNIQUE,
    key_hash   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    revoked_at timestamptz,
    revoked_by text
);

-- Projection of filed records from filing.record.changed (never filing's schema).
CREATE TABLE filed_subjects (
    subject_id   uuid PRIMARY KEY,
    seq          bigint NOT NULL,
    provider_id  text NOT NULL,
    subject_no   text,
    name         text NOT NULL,
    status       text NOT NULL,
    province     text NOT NULL,  -- GB/T 2260
    cert_type    text NOT NULL,
    cert_digest  text NOT NULL,
    cert_masked  text NOT NULL,
    changed_at   timestamptz NOT NULL
);
CREATE INDEX filed_subjects_cert ON filed_subjects (cert_digest);
CREATE TABLE filed_websites (
    website_id uuid PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES filed_subjects (subject_id),
    website_no text,
    name       text NOT NULL,
    status     text NOT NULL,
    domains    text[] NOT NULL
);
CREATE INDEX filed_websites_subject ON filed_websites (subject_id);
-- live domains of numbered, live websites: what "filed" means for a detection
CREATE TABLE filed_domains (
    domain     text NOT NULL,
    website_id uuid NOT NULL REFERENCES filed_websites (website_id) ON DELETE CASCADE,
    website_no text NOT NULL,
    PRIMARY KEY (domain, website_id)
);
CREATE TABLE filed_accesses (
    website_id  uuid NOT NULL REFERENCES filed_websites (website_id) ON DELETE CASCADE,
    provider_id text NOT NULL,
    ip_ranges   text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (website_id, provider_id)
);
CREATE INDEX filed_accesses_provider ON filed_accesses (provider_id);

-- 备案信息黑名单 (seed 1.9.1): subjects (certificate) and websites (domains).
CREATE TABLE blacklist (
    id             uuid PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('SUBJECT', 'WEBSITE')),
    sponsor_name   text NOT NULL DEFAULT '',
    cert_type      text NOT NULL DEFAULT '',
    cert_number    text NOT NULL DEFAULT '',  -- normalised; shown masked to providers
    cert_family    text NOT NULL DEFAULT '',
    cert_digest    text NOT NULL DEFAULT '',
    website_name   text NOT NULL DEFAULT '',
    domains        text[] NOT NULL DEFAULT '{}',
    reason         text NOT NULL,
    listed_at      timestamptz NOT NULL DEFAULT now(),
    listed_by      text NOT NULL,
    listed_province text,  -- the listing regulator's province (NULL: an admin)
    removed_at     timestamptz,
    removed_by     text,
    removal_reason text
);
CREATE INDEX blacklist_kind ON blacklist (kind, listed_at DESC) WHERE removed_at IS NULL;
CREATE INDEX blacklist_cert ON blacklist (cert_digest) WHERE removed_at IS NULL;
CREATE INDEX blacklist_domains ON blacklist USING gin (domains);
