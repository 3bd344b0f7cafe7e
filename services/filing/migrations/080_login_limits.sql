-- Login abuse (issue 9): per-client-address counters and failed logins of names that are no account.
-- Several API replicas share them, so they live here rather than in process memory. Rows are small
-- and short-lived: housekeeping deletes them once their window (and lock) has passed.

-- One fixed-window counter per (what, client address): captcha issuance, failed logins.
CREATE TABLE rate_limits (
    bucket       text NOT NULL,
    client       text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL,
    PRIMARY KEY (bucket, client)
);

-- Failed logins of a name that is no account are counted and locked exactly like an account's, so
-- a lock (423) does not tell an attacker that the name exists.
CREATE TABLE unknown_login_failures (
    username      text PRIMARY KEY,  -- lower case
    failed_logins integer NOT NULL DEFAULT 0,
    failed_since  timestamptz,
    locked_until  timestamptz
);

-- An account's failures count within a window (ICP_LOGIN_LOCK_MINUTES) from the first of the run,
-- so that the unknown names' rows can be purged without answering differently from accounts.
ALTER TABLE users ADD COLUMN failed_since timestamptz;
