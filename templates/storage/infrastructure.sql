-- Tables every service database has, owned by the cpp-svc runtime.

-- Events written by handlers in their own transaction; the relay publishes
-- pending rows to JetStream (Nats-Msg-Id = id) and, after the ack, moves
-- them to cppsvc_outbox_sent. So every row here is pending; `status` and
-- `sent_at` stay from version 1, where sent rows stayed in this table.
CREATE TABLE cppsvc_outbox (
  id uuid PRIMARY KEY,
  seq bigserial NOT NULL,
  subject text NOT NULL,
  event_type text NOT NULL,
  ordering_key text NOT NULL DEFAULT '',
  payload bytea NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX cppsvc_outbox_pending_idx ON cppsvc_outbox (seq) WHERE status = 'pending';

-- Published events, kept for the relay's retention, then deleted. Moving a
-- row here is a DELETE and an append to a table with only a BRIN index,
-- where updating its status in place would write a new row version and an
-- entry in every index of cppsvc_outbox.
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

-- One payload-free notification per transaction that wrote to the outbox
-- (PostgreSQL folds identical notifications of a transaction into one).
CREATE FUNCTION cppsvc_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('cppsvc_outbox', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER cppsvc_outbox_notify AFTER INSERT ON cppsvc_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION cppsvc_outbox_notify();

-- Events a consumer has applied, inserted in the handler's transaction.
CREATE TABLE cppsvc_inbox (
  consumer text NOT NULL,
  event_id text NOT NULL,
  subject text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Events that failed their last delivery attempt, kept for inspection and replay.
CREATE TABLE cppsvc_dead_letters (
  id bigserial PRIMARY KEY,
  consumer text NOT NULL,
  event_id text NOT NULL,
  subject text NOT NULL,
  payload bytea NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  error text NOT NULL,
  attempts integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  replayed_at timestamptz
);
CREATE INDEX cppsvc_dead_letters_pending_idx ON cppsvc_dead_letters (id) WHERE replayed_at IS NULL;

-- Responses of RPCs called with an idempotency key, stored with the key in
-- the call's own transaction. Keys are scoped by caller (the token's
-- subject): another caller's key is a new key.
CREATE TABLE cppsvc_idempotency_keys (
  method text NOT NULL,
  caller text NOT NULL DEFAULT '',
  key text NOT NULL,
  request_hash text NOT NULL,
  status_code integer NOT NULL DEFAULT 0,
  response bytea NOT NULL DEFAULT ''::bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (method, caller, key)
);
