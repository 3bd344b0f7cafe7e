-- 自主备案 (self-filing, issue 11): a sponsor registers an account of its own (no provider) and files
-- its subject and websites itself. Such a subject, its websites and its first application belong to no
-- provider (provider_id NULL): every provider-scoped query (`provider_id = $1`) leaves them out, and a
-- provider sees one only once it has an access record on it (新增接入, seed 1.4.2).

ALTER TABLE subjects ALTER COLUMN provider_id DROP NOT NULL;
ALTER TABLE subjects ADD CONSTRAINT subjects_provider_or_self CHECK (provider_id IS NOT NULL OR filing_method = 'SELF');
ALTER TABLE websites ALTER COLUMN provider_id DROP NOT NULL;
ALTER TABLE applications ALTER COLUMN provider_id DROP NOT NULL;
ALTER TABLE applications ADD CONSTRAINT applications_provider_or_self
    CHECK (provider_id IS NOT NULL OR filing_method = 'SELF');
ALTER TABLE drafts ALTER COLUMN provider_id DROP NOT NULL;

-- One unfinished draft per self-filing sponsor (drafts_one_unfinished does not hold for a NULL provider).
CREATE UNIQUE INDEX drafts_one_unfinished_self ON drafts (operator_id) WHERE status = 'DRAFT' AND provider_id IS NULL;

-- A self-registered sponsor account: role sponsor, no provider, the province it files in (provinces.csv code).
ALTER TABLE users ADD COLUMN self_registered boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD CONSTRAINT users_self_registered_sponsor
    CHECK (NOT self_registered OR (role = 'sponsor' AND provider_id IS NULL AND province IS NOT NULL));
