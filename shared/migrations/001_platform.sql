-- Tables every service schema carries (search_path is set to the schema).

-- Transactional outbox: written in the same transaction as the state change,
-- published by the relay, then marked sent.
CREATE TABLE outbox (
    seq           bigserial PRIMARY KEY,
    id            uuid NOT NULL UNIQUE,
    exchange      text NOT NULL,
    routing_key   text NOT NULL,
    body          bytea NOT NULL,
    headers       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error    text
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Idempotent consumer: a message id recorded here was handled; its effects were
-- committed in the same transaction.
CREATE TABLE inbox (
    message_id    uuid PRIMARY KEY,
    type          text NOT NULL,
    handled_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_handled_at ON inbox (handled_at);

-- Logged-out sessions, known to every service so a revoked token stops at once.
CREATE TABLE revoked_sessions (
    session_id    text PRIMARY KEY,
    expires_at    timestamptz NOT NULL
);

-- The provider directory (tenants), kept by every service from filing's events;
-- filing keeps its authoritative table in its own migrations.
CREATE TABLE providers (
    provider_id text PRIMARY KEY,
    name        text NOT NULL,
    province    text,
    updated_at  timestamptz NOT NULL
);
