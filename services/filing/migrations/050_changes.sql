-- Business changes and cancellations (DESIGN §4 flow 4; DOMAIN §4.7, §4.8, §7.1–7.4):
-- 新增网站 / 新增接入 / 变更主体、网站、接入 are applications of their own type whose proposal is
-- kept in `applications.proposal` (the latest, possibly corrected one) and in every submitted
-- version's payload; 取消接入 is recorded as an application that is APPROVED at once; 注销主体 /
-- 注销网站 are `cancellations`, each driving an application of type CANCEL_SUBJECT / CANCEL_WEBSITE.

ALTER TABLE applications
    ADD COLUMN proposal   jsonb,  -- change applications: the proposed data (see services/filing/changes.py)
    ADD COLUMN website_id uuid REFERENCES websites (id);  -- the website a website-level application is about

CREATE INDEX applications_website ON applications (website_id) WHERE website_id IS NOT NULL;

-- One in-flight application per subject (DOMAIN §5.10). A rejected cancellation (注销申请 拒绝)
-- is closed unless it is re-applied (DOMAIN §7.3): it does not block the subject's other business.
DROP INDEX applications_one_in_flight;
CREATE UNIQUE INDEX applications_one_in_flight ON applications (subject_id)
    WHERE status IN ('PENDING_VERIFICATION', 'VERIFY_RETURNED', 'SUBMITTED_TO_BUREAU', 'SMS_PENDING',
                     'PREAPPROVAL_PENDING', 'REJECTED')
      AND NOT (status = 'REJECTED' AND type IN ('CANCEL_SUBJECT', 'CANCEL_WEBSITE'));

-- 注销申请 (DOMAIN §4.8). The status shown (APPLIED / APPROVED / REJECTED,
-- codes/cancel_application_statuses.csv) follows the application's; a deleted request keeps its
-- row (deleted_at) for the history.
CREATE TABLE cancellations (
    id             uuid PRIMARY KEY,
    application_id uuid NOT NULL UNIQUE REFERENCES applications (id),
    provider_id    text NOT NULL REFERENCES providers (provider_id),
    target_type    text NOT NULL CHECK (target_type IN ('SUBJECT', 'WEBSITE')),
    subject_id     uuid NOT NULL REFERENCES subjects (id),
    website_id     uuid REFERENCES websites (id),
    target_no      text NOT NULL,  -- the filing number of the subject or website
    reason_code    text NOT NULL,  -- codes/cancel_reasons.csv
    reason         text NOT NULL DEFAULT '',  -- free text (required for OTHER)
    deleted_at     timestamptz,
    deleted_by     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((target_type = 'WEBSITE') = (website_id IS NOT NULL))
);
CREATE INDEX cancellations_provider ON cancellations (provider_id, created_at DESC);
CREATE INDEX cancellations_subject ON cancellations (subject_id);
CREATE INDEX cancellations_website ON cancellations (website_id) WHERE website_id IS NOT NULL;

-- Each apply / modify / delete / re-apply with user and time (DOMAIN §4.8 history).
CREATE TABLE cancellation_history (
    id              bigserial PRIMARY KEY,
    cancellation_id uuid NOT NULL REFERENCES cancellations (id),
    action          text NOT NULL CHECK (action IN ('APPLY', 'MODIFY', 'DELETE', 'REAPPLY')),
    reason_code     text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    version         integer NOT NULL,
    actor           text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cancellation_history_cancellation ON cancellation_history (cancellation_id, id);
