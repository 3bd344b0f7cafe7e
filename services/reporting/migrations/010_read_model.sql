-- Reporting read models. Everything below `event_log` is a query table: built only from the
-- events in `event_log` (services/reporting/projection.py), and rebuilt from it by
-- `icp reporting rebuild` to the same state.

-- Name fragments (sponsor, website name) are searched with trigram indexes where the server has
-- pg_trgm (contrib; CloudNativePG and Debian's packages do). The embedded PostgreSQL of `icp up`
-- ships without it: there the ILIKE queries still work, on a sequential scan.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    END IF;
END $$;

-- Every consumed event, append-only, in the order it was handled.
CREATE TABLE event_log (
    seq         bigserial PRIMARY KEY,
    message_id  uuid NOT NULL UNIQUE,
    type        text NOT NULL,
    provider_id text,
    occurred_at timestamptz NOT NULL,
    payload     jsonb NOT NULL,
    logged_at   timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION event_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'event_log is append-only';
END $$;
CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE ON event_log
    FOR EACH ROW EXECUTE FUNCTION event_log_append_only();

-- ---------------------------------------------------------------- progress (1.7.1)

-- One row per application, from its latest submitted version; the status is derived from
-- `application_history` (every outcome, whatever order they arrive in).
CREATE TABLE applications (
    application_id    uuid PRIMARY KEY,
    provider_id       text NOT NULL,
    province          text NOT NULL,  -- GB/T 2260 of the subject's province
    subject_id        uuid NOT NULL,
    type              text NOT NULL,
    version           integer NOT NULL,
    sponsor_name      text NOT NULL,
    nature            text NOT NULL,
    domains           text[] NOT NULL,
    website_names     text[] NOT NULL,
    needs_preapproval boolean NOT NULL,
    source            text NOT NULL,
    submitted_at      timestamptz NOT NULL,  -- of the first version
    resubmitted_at    timestamptz NOT NULL,  -- of the latest version
    status            text NOT NULL,
    status_at         timestamptz NOT NULL,
    decided_at        timestamptz,
    reason            text NOT NULL DEFAULT ''  -- rejection reason or return opinion of the current status
);
CREATE INDEX applications_provider ON applications (provider_id, resubmitted_at DESC);
CREATE INDEX applications_province ON applications (province, resubmitted_at DESC);
CREATE INDEX applications_domains ON applications USING gin (domains);

CREATE TABLE application_history (
    message_id     uuid PRIMARY KEY,
    application_id uuid NOT NULL,
    version        integer NOT NULL,
    status         text NOT NULL,
    rank           smallint NOT NULL,  -- 0 submitted, 1 in review, 2 final (services/reporting/model.py)
    note           text NOT NULL DEFAULT '',
    actor          text NOT NULL DEFAULT '',
    at             timestamptz NOT NULL
);
CREATE INDEX application_history_app ON application_history (application_id, version, rank, at);

-- ---------------------------------------------------------------- filed records (1.7.2, 1.7.3, 1.5.1, 1.7.4)

CREATE TABLE subjects (
    subject_id    uuid PRIMARY KEY,
    state_version bigint NOT NULL,
    provider_id   text NOT NULL,
    subject_no    text,
    status        text NOT NULL,
    name          text NOT NULL,
    nature        text NOT NULL,
    province      text NOT NULL,
    filing_method text NOT NULL,
    approved_at   timestamptz,
    cancelled_at  timestamptz,
    changed_at    timestamptz NOT NULL,
    state         jsonb NOT NULL  -- the subject's state event (detail page)
);
CREATE INDEX subjects_subject_no ON subjects (subject_no);

-- One row per numbered website, denormalised for the queries and statistics.
CREATE TABLE websites (
    website_id        uuid PRIMARY KEY,
    subject_id        uuid NOT NULL,
    state_version     bigint NOT NULL,
    website_no        text NOT NULL,
    subject_no        text NOT NULL,
    name              text NOT NULL,
    sponsor_name      text NOT NULL,
    nature            text NOT NULL,
    cert_number       text NOT NULL,
    province          text NOT NULL,  -- GB/T 2260, e.g. 110000
    filing_method     text NOT NULL,
    status            text NOT NULL,  -- ACTIVE | NO_ACCESS | CANCELLED | BLACKLISTED
    subject_status    text NOT NULL,
    domains           text[] NOT NULL,
    home_urls         text[] NOT NULL,
    service_content   text[] NOT NULL,
    languages         text[] NOT NULL,
    preapproval_types text[] NOT NULL,
    access_methods    text[] NOT NULL,  -- of the active access records
    server_locations  text[] NOT NULL,  -- of the active access records
    principal_names   text[] NOT NULL,  -- subject and website principal
    provider_ids      text[] NOT NULL,  -- providers with an active access (the providers' scope)
    approved_at       timestamptz NOT NULL,
    cancelled_at      timestamptz,
    cert_code         text NOT NULL     -- verification code of the e-certificate
);
CREATE INDEX websites_subject ON websites (subject_id);
CREATE INDEX websites_approved ON websites (approved_at DESC, website_id);
CREATE INDEX websites_province ON websites (province, approved_at DESC);
CREATE INDEX websites_providers ON websites USING gin (provider_ids);
CREATE INDEX websites_domains ON websites USING gin (domains);
CREATE INDEX websites_principals ON websites USING gin (principal_names);
CREATE INDEX websites_website_no ON websites (website_no);
CREATE INDEX websites_subject_no ON websites (subject_no);
CREATE INDEX websites_cert_number ON websites (upper(cert_number));
CREATE INDEX websites_cert_code ON websites (cert_code);

-- The IP ranges of the active access records; IPv4 as its integer, IPv6 as 2^32 + its integer.
CREATE TABLE website_ips (
    website_id  uuid NOT NULL,
    provider_id text NOT NULL,
    ips         numrange NOT NULL
);
CREATE INDEX website_ips_website ON website_ips (website_id);
CREATE INDEX website_ips_range ON website_ips USING gist (ips);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX applications_sponsor_trgm ON applications USING gin (sponsor_name public.gin_trgm_ops);
        CREATE INDEX websites_name_trgm ON websites USING gin (name public.gin_trgm_ops);
        CREATE INDEX websites_sponsor_trgm ON websites USING gin (sponsor_name public.gin_trgm_ops);
    END IF;
END $$;
