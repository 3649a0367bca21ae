-- Version 2 of the runtime's tables: published outbox rows move to
-- cppsvc_outbox_sent instead of being updated in place (see
-- infrastructure.sql); the rows already sent move there now.
CREATE TABLE cppsvc_outbox_sent (
  id uuid NOT NULL,
  seq bigint NOT NULL,
  subject text NOT NULL,
  event_type text NOT NULL,
  ordering_key text NOT NULL,
  payload bytea NOT NULL,
  headers jsonb NOT NULL,
  attempts integer NOT NULL,
  created_at timestamptz NOT NULL,
  sent_at timestamptz NOT NULL
);
CREATE INDEX cppsvc_outbox_sent_at_idx ON cppsvc_outbox_sent USING brin (sent_at);
WITH moved AS (
  DELETE FROM cppsvc_outbox WHERE status = 'sent'
  RETURNING id, seq, subject, event_type, ordering_key, payload, headers, attempts, created_at,
            sent_at
)
INSERT INTO cppsvc_outbox_sent (id, seq, subject, event_type, ordering_key, payload, headers,
                                attempts, created_at, sent_at)
SELECT id, seq, subject, event_type, ordering_key, payload, headers, attempts, created_at,
       coalesce(sent_at, now())
FROM moved ORDER BY sent_at;
DROP INDEX cppsvc_outbox_sent_idx;
