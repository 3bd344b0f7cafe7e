-- Cases (核实/审核案件): one per application (filing.application.submitted), reopened with
-- the next version after a return or a rejection. Every version's snapshot and every
-- opinion/decision are kept.
CREATE TABLE cases (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id    text NOT NULL UNIQUE,
    provider_id       text NOT NULL,
    type              text NOT NULL,
    source            text NOT NULL DEFAULT 'entry',
    province          text NOT NULL,          -- GB/T 2260 of the subject's province, e.g. 110000
    province_code     text NOT NULL,          -- provinces.csv code, e.g. BJ (the bureau)
    subject_id        text NOT NULL,
    subject_name      text NOT NULL,
    domains           text[] NOT NULL DEFAULT '{}',   -- lower-case, for the domain filter
    version           integer NOT NULL,
    status            text NOT NULL,
    needs_preapproval boolean NOT NULL DEFAULT false,
    application       jsonb NOT NULL,         -- the current version's payload, as submitted
    submitted_at      timestamptz NOT NULL,   -- of the current version
    first_submitted_at timestamptz NOT NULL,
    submitted_by      text NOT NULL DEFAULT '',
    opened_at         timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- last outcome
    verified_at       timestamptz,
    decided_at        timestamptz,
    decision_reason   text,
    subject_no        text,
    website_numbers   jsonb NOT NULL DEFAULT '[]'::jsonb,  -- [{website_id, website_no}] of the approval
    retired_numbers   text[] NOT NULL DEFAULT '{}',
    CHECK (status IN ('PENDING_VERIFICATION', 'VERIFY_RETURNED', 'SUBMITTED_TO_BUREAU', 'PREAPPROVAL_PENDING',
                      'APPROVED', 'REJECTED', 'ABANDONED'))
);
CREATE INDEX cases_provider_queue ON cases (provider_id, status, submitted_at);
CREATE INDEX cases_province_queue ON cases (province, status, submitted_at);
CREATE INDEX cases_status_updated ON cases (status, updated_at);
CREATE INDEX cases_subject ON cases (subject_id);

CREATE TABLE case_versions (
    case_id       uuid NOT NULL REFERENCES cases (id),
    version       integer NOT NULL,
    application   jsonb NOT NULL,
    submitted_at  timestamptz NOT NULL,
    submitted_by  text NOT NULL DEFAULT '',
    message_id    uuid,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, version)
);

-- Opinions and decisions (核实意见, 前置审批结果, 管局审核结论), in order.
CREATE TABLE case_history (
    id           bigserial PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES cases (id),
    version      integer NOT NULL,
    action       text NOT NULL,   -- SUBMITTED | RESUBMITTED | VERIFY_PASS | VERIFY_RETURN | PREAPPROVAL_PASS |
                                  -- PREAPPROVAL_FAIL | APPROVE | REJECT
    status_from  text,
    status_to    text NOT NULL,
    text         text NOT NULL DEFAULT '',  -- opinion / reason / note
    actor_role   text NOT NULL,
    actor_id     text NOT NULL,
    actor_name   text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now(),
    details      jsonb
);
CREATE INDEX case_history_case ON case_history (case_id, id);
-- A version is verified once (pass or return), whoever tries again.
CREATE UNIQUE INDEX case_history_one_verification ON case_history (case_id, version)
    WHERE action IN ('VERIFY_PASS', 'VERIFY_RETURN');
-- A version gets one final bureau outcome.
CREATE UNIQUE INDEX case_history_one_decision ON case_history (case_id, version)
    WHERE action IN ('APPROVE', 'REJECT', 'PREAPPROVAL_FAIL');

-- ------------------------------------------------------------- filing numbers (DOMAIN §6)

-- Subject serials per (province, year). Taken with INSERT … ON CONFLICT DO UPDATE … RETURNING
-- inside the approval transaction: the row stays locked until commit, so two approvals never
-- get the same serial, and a rolled-back approval gives its serial back (no gaps).
CREATE TABLE number_sequences (
    province   text NOT NULL,     -- GB/T 2260, e.g. 110000
    year       integer NOT NULL,
    last_seq   integer NOT NULL CHECK (last_seq BETWEEN 1 AND 999999),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (province, year)
);

-- Every subject number ever issued (or adopted from an earlier system); never deleted.
CREATE TABLE subject_numbers (
    subject_no  text PRIMARY KEY,
    subject_id  text NOT NULL,
    province    text NOT NULL,
    year        integer,          -- NULL for adopted numbers of another shape
    seq         integer,
    status      text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'RETIRED')),
    origin      text NOT NULL DEFAULT 'ISSUED' CHECK (origin IN ('ISSUED', 'ADOPTED')),
    application_id text,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz,
    UNIQUE (province, year, seq)
);
CREATE INDEX subject_numbers_subject ON subject_numbers (subject_id);

-- Per-subject state: its current number and the next website index (-N), never decreasing.
CREATE TABLE subjects (
    subject_id       text PRIMARY KEY,
    province         text NOT NULL,
    subject_no       text UNIQUE REFERENCES subject_numbers (subject_no),
    next_website_seq integer NOT NULL DEFAULT 1 CHECK (next_website_seq >= 1),
    status           text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'CANCELLED')),
    first_approved_at timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Every website number ever issued (or adopted); a retired number stays here so it is never reused.
CREATE TABLE website_numbers (
    website_no   text PRIMARY KEY,
    website_id   text NOT NULL,
    subject_id   text NOT NULL,
    subject_no   text NOT NULL REFERENCES subject_numbers (subject_no),
    seq          integer NOT NULL,
    status       text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'RETIRED')),
    origin       text NOT NULL DEFAULT 'ISSUED' CHECK (origin IN ('ISSUED', 'ADOPTED')),
    application_id text,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz,
    UNIQUE (subject_no, seq)
);
-- A website holds at most one live number.
CREATE UNIQUE INDEX website_numbers_active ON website_numbers (website_id) WHERE status = 'ACTIVE';
CREATE INDEX website_numbers_subject ON website_numbers (subject_id);
