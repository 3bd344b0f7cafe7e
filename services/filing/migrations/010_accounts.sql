-- Login support (seed 1.2, 1.15): captchas, issued sessions, last login.

-- Image captchas: only a keyed hash of the answer is kept; a row is deleted when a login
-- attempt uses it (single use, right or wrong) and is worthless after expires_at.
CREATE TABLE captchas (
    id          uuid PRIMARY KEY,
    answer_hash text NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX captchas_expires_at ON captchas (expires_at);

-- Sessions issued at login, so that a password change or a disabled account revokes a
-- user's other sessions (revocation itself goes through revoked_sessions + SessionRevoked).
CREATE TABLE sessions (
    session_id  text PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    client_ip   text,
    user_agent  text
);
CREATE INDEX sessions_user_active ON sessions (user_id, expires_at) WHERE revoked_at IS NULL;

ALTER TABLE users ADD COLUMN last_login_at timestamptz;
CREATE INDEX users_role_province ON users (role, province);
