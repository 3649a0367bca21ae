-- The saga steps this service took part in, one row per step and instance:
-- a step runs once ('succeeded' or 'failed'), and an undo that arrives
-- before its step leaves 'undone', so that the late step only reports
-- failure.
CREATE TABLE cppsvc_saga_steps (
  saga text NOT NULL,
  step text NOT NULL,
  id text NOT NULL,
  state text NOT NULL CHECK (state IN ('succeeded', 'failed', 'undone')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (saga, step, id)
);
