-- Effects of the test-only spine handler; deliberately no unique constraint, so only the
-- inbox stands between a duplicate delivery and a second row.
CREATE TABLE effects (
    id         bigserial PRIMARY KEY,
    n          integer NOT NULL,
    message_id uuid NOT NULL
);
