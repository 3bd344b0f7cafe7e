-- Filed records (DOMAIN §4.1–4.4, §4.7): subjects, websites, domains, accesses, applications.
--
-- Entity statuses: PENDING (in a first filing not yet approved), ACTIVE (approved),
-- NO_ACCESS / SHELL, BLACKLISTED, CANCELLED, and WITHDRAWN (a pending record dropped before
-- approval, e.g. a website removed while correcting a returned application). Every status but
-- CANCELLED and WITHDRAWN is "live": it holds its certificate, domains and mobiles, so that the
-- partial unique indexes below refuse a second filing of them under any concurrency.

CREATE TABLE subjects (
    id                   uuid PRIMARY KEY,
    provider_id          text NOT NULL REFERENCES providers (provider_id),  -- the provider that filed it
    sponsor_user_id      uuid REFERENCES users (id),
    nature               text NOT NULL,
    cert_type            text NOT NULL,
    cert_family          text NOT NULL,  -- USCC / ORG_CODE / PERSON_ID / the cert type (filing_data.subject_key)
    cert_number          text NOT NULL,
    name                 text NOT NULL,
    cert_address         text NOT NULL,
    province             text NOT NULL,  -- GB/T 2260, e.g. 110000
    city                 text NOT NULL,
    county               text NOT NULL DEFAULT '',
    mail_address         text NOT NULL,
    investor_or_superior text NOT NULL,
    remark               text NOT NULL DEFAULT '',
    principal            jsonb NOT NULL,  -- Principal (DOMAIN §4.2), full ID number
    subject_no           text,
    status               text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'ACTIVE', 'NO_ACCESS', 'SHELL', 'BLACKLISTED', 'CANCELLED', 'WITHDRAWN')),
    filing_method        text NOT NULL DEFAULT 'PROXY' CHECK (filing_method IN ('SELF', 'PROXY')),
    source               text NOT NULL DEFAULT 'entry',  -- entry | import | api
    import_job_id        text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    created_by           text NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    approved_at          timestamptz
);
-- One live subject per certificate in the whole filing database (DOMAIN §4.1, §5.10).
CREATE UNIQUE INDEX subjects_cert_live ON subjects (cert_family, cert_number)
    WHERE status NOT IN ('CANCELLED', 'WITHDRAWN');
CREATE INDEX subjects_provider ON subjects (provider_id, created_at DESC);
CREATE INDEX subjects_sponsor ON subjects (sponsor_user_id);
CREATE INDEX subjects_province ON subjects (province, created_at DESC);
CREATE INDEX subjects_subject_no ON subjects (subject_no) WHERE subject_no IS NOT NULL;

-- A mobile number belongs to one subject only (DOMAIN §5.3): every principal mobile of a subject.
CREATE TABLE subject_mobiles (
    subject_id uuid NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    mobile     text NOT NULL,
    active     boolean NOT NULL DEFAULT true,
    PRIMARY KEY (subject_id, mobile)
);
CREATE UNIQUE INDEX subject_mobiles_live ON subject_mobiles (mobile) WHERE active;

CREATE TABLE websites (
    id                        uuid PRIMARY KEY,
    subject_id                uuid NOT NULL REFERENCES subjects (id),
    provider_id               text NOT NULL REFERENCES providers (provider_id),  -- the provider that filed it
    position                  integer NOT NULL,  -- order within the subject's filing
    service_type              text NOT NULL DEFAULT 'WEBSITE',
    name                      text NOT NULL,
    home_urls                 jsonb NOT NULL,
    service_content           jsonb NOT NULL,
    preapprovals              jsonb NOT NULL,  -- [{type, approval_no, document}]
    needs_preapproval         boolean NOT NULL DEFAULT false,
    languages                 jsonb NOT NULL,
    remark                    text NOT NULL DEFAULT '',
    principal_same_as_subject boolean NOT NULL DEFAULT false,
    principal                 jsonb,  -- NULL when same as the subject principal
    website_no                text,
    status                    text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'ACTIVE', 'NO_ACCESS', 'BLACKLISTED', 'CANCELLED', 'WITHDRAWN')),
    created_at                timestamptz NOT NULL DEFAULT now(),
    created_by                text NOT NULL,
    updated_at                timestamptz NOT NULL DEFAULT now(),
    approved_at               timestamptz
);
CREATE INDEX websites_subject ON websites (subject_id, position);
CREATE INDEX websites_provider ON websites (provider_id, created_at DESC);
CREATE UNIQUE INDEX websites_website_no ON websites (website_no) WHERE website_no IS NOT NULL;

CREATE TABLE domains (
    website_id uuid NOT NULL REFERENCES websites (id) ON DELETE CASCADE,
    subject_id uuid NOT NULL REFERENCES subjects (id),
    position   integer NOT NULL DEFAULT 0,
    ascii      text NOT NULL,  -- A-label, the comparison key
    unicode    text NOT NULL,  -- display form
    status     text NOT NULL DEFAULT 'PENDING',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (website_id, ascii)
);
-- A domain is filed once, under any concurrency (DOMAIN §5.4 item 7).
CREATE UNIQUE INDEX domains_live ON domains (ascii) WHERE status NOT IN ('CANCELLED', 'WITHDRAWN');
CREATE INDEX domains_ascii_all ON domains (ascii);
CREATE INDEX domains_subject ON domains (subject_id);

-- 接入 (DOMAIN §4.4): one per (website, provider).
CREATE TABLE accesses (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    website_id       uuid NOT NULL REFERENCES websites (id) ON DELETE CASCADE,
    subject_id       uuid NOT NULL REFERENCES subjects (id),
    provider_id      text NOT NULL REFERENCES providers (provider_id),
    access_methods   jsonb NOT NULL,
    ip_ranges        jsonb NOT NULL,  -- ["start-end", …]
    server_locations jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'ACTIVE', 'CANCELLED', 'WITHDRAWN')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accesses_live ON accesses (website_id, provider_id) WHERE status NOT IN ('CANCELLED', 'WITHDRAWN');
CREATE INDEX accesses_provider_subject ON accesses (provider_id, subject_id);

-- 备案申请 (DOMAIN §4.7, §7.2). `version` is the submitted version; every version's full
-- snapshot is kept in application_versions.
CREATE TABLE applications (
    id                uuid PRIMARY KEY,
    type              text NOT NULL,
    status            text NOT NULL,
    version           integer NOT NULL DEFAULT 1,
    subject_id        uuid NOT NULL REFERENCES subjects (id),
    provider_id       text NOT NULL REFERENCES providers (provider_id),
    province          text NOT NULL,
    filing_method     text NOT NULL DEFAULT 'PROXY',
    source            text NOT NULL DEFAULT 'entry',
    import_job_id     text,
    needs_preapproval boolean NOT NULL DEFAULT false,
    case_id           text,
    verify_opinion    text,
    verified_by       text,
    verified_at       timestamptz,
    bureau_reason     text,
    decided_by        text,
    decided_at        timestamptz,
    status_at         timestamptz NOT NULL DEFAULT now(),  -- time of the status as reported by its producer
    corrected_at      timestamptz,  -- data corrected since the last (re)submission
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    submitted_by      text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- One in-flight application per subject (DOMAIN §5.10, §7.2 global guards).
CREATE UNIQUE INDEX applications_one_in_flight ON applications (subject_id)
    WHERE status IN ('PENDING_VERIFICATION', 'VERIFY_RETURNED', 'SUBMITTED_TO_BUREAU', 'SMS_PENDING',
                     'PREAPPROVAL_PENDING', 'REJECTED');
CREATE INDEX applications_provider ON applications (provider_id, created_at DESC);
CREATE INDEX applications_subject ON applications (subject_id, created_at DESC);

CREATE TABLE application_versions (
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    version        integer NOT NULL,
    payload        jsonb NOT NULL,  -- the FilingData as submitted (canonical, full numbers) + entity ids
    submitted_at   timestamptz NOT NULL DEFAULT now(),
    submitted_by   text NOT NULL,
    PRIMARY KEY (application_id, version)
);

CREATE TABLE application_status_history (
    id             bigserial PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    version        integer NOT NULL,
    status         text NOT NULL,
    note           text NOT NULL DEFAULT '',
    actor          text NOT NULL,
    at             timestamptz NOT NULL DEFAULT now(),
    message_id     uuid  -- the verification event that caused it, if any
);
CREATE INDEX application_status_history_app ON application_status_history (application_id, id);

-- 代为录入 drafts (seed 1.3.1): one unfinished draft per operator.
CREATE TABLE drafts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id     text NOT NULL REFERENCES providers (provider_id),
    operator_id     text NOT NULL,  -- the operator's user id (token subject)
    step            integer NOT NULL DEFAULT 1,
    data            jsonb NOT NULL DEFAULT '{"subject": null, "websites": [], "another_website": null}',
    status          text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'SUBMITTED', 'DELETED')),
    application_id  uuid REFERENCES applications (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX drafts_one_unfinished ON drafts (provider_id, operator_id) WHERE status = 'DRAFT';

-- Who changed what, when (subjects, websites, applications, drafts).
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    entity      text NOT NULL,  -- subject | website | application | draft
    entity_id   uuid NOT NULL,
    subject_id  uuid,  -- the subject the entry belongs to, for the subject history
    action      text NOT NULL,
    actor       text NOT NULL,
    provider_id text,
    at          timestamptz NOT NULL DEFAULT now(),
    changes     jsonb NOT NULL DEFAULT '{}',  -- {field: [old, new]} or the created values; ID numbers masked
    request_id  text
);
CREATE INDEX audit_log_subject ON audit_log (subject_id, id);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
