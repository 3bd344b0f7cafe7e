-- Every account that can log in: provider operators (tenant = provider_id), bureau
-- reviewers (scoped to a province), sponsors (主办者, created at filing by a provider,
-- provider_id = that provider) and platform admins.
CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username            text NOT NULL,
    password_hash       text NOT NULL,
    role                text NOT NULL CHECK (role IN ('provider', 'bureau', 'sponsor', 'admin')),
    provider_id         text REFERENCES providers (provider_id),
    province            text,
    display_name        text NOT NULL,
    phone               text,
    email               text,
    failed_logins       integer NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    disabled            boolean NOT NULL DEFAULT false,
    password_changed_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'provider' OR provider_id IS NOT NULL),
    CHECK (role <> 'bureau' OR province IS NOT NULL)
);
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE INDEX users_provider ON users (provider_id, role);
