-- Withdrawals racing verification (filing.application.withdrawn / verification.application.withdrawal_refused).
-- A deleted cancellation request or a modified one (next version) may be refused by verification when the
-- case had already reached the bureau; filing then restores the request (cancellation_history RESTORE).
ALTER TABLE cancellation_history DROP CONSTRAINT cancellation_history_action_check;
ALTER TABLE cancellation_history ADD CONSTRAINT cancellation_history_action_check
    CHECK (action IN ('APPLY', 'MODIFY', 'DELETE', 'REAPPLY', 'RESTORE'));

-- Review outcomes of a cancellation's application that arrived while it was ABANDONED (deleted) or
-- at a newer version (modified): ignored then, replayed if verification refuses the withdrawal or the
-- newer version (`outcomes.on_withdrawal_refused`). Removed when replayed.
CREATE TABLE deferred_outcomes (
    message_id     uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id),
    version        integer NOT NULL,
    type           text NOT NULL,
    provider_id    text,
    payload        jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deferred_outcomes_application ON deferred_outcomes (application_id, version);
