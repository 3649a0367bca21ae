-- State of the sagas this service owns, one row per instance. The owner
-- moves a row from step to step on the participants' events (optimistic
-- locking on version); a row whose deadline passes while running is
-- compensated as if its current step had failed.
CREATE TABLE cppsvc_sagas (
  saga text NOT NULL,
  id text NOT NULL,
  step text NOT NULL,
  status text NOT NULL DEFAULT 'running'
    CHECK (status IN ('running', 'compensating', 'completed', 'aborted')),
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  error text,
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deadline timestamptz,
  PRIMARY KEY (saga, id)
);
CREATE INDEX cppsvc_sagas_deadline_idx ON cppsvc_sagas (deadline)
  WHERE status IN ('running', 'compensating') AND deadline IS NOT NULL;
