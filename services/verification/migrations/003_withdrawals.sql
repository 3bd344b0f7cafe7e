-- Withdrawals (filing.application.withdrawn) that arrived before the application's case was
-- opened (or that closed it): a later `filing.application.submitted` of this version or an older
-- one must not open (or reopen) the case. One row per application, the highest version withdrawn.
CREATE TABLE withdrawals (
    application_id text PRIMARY KEY,
    provider_id    text NOT NULL,
    version        integer NOT NULL,
    reason         text NOT NULL,
    withdrawn_at   timestamptz NOT NULL,
    withdrawn_by   text NOT NULL DEFAULT '',
    received_at    timestamptz NOT NULL DEFAULT now()
);
