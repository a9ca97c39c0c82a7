-- The daily retention run, once across replicas: every replica wakes at the configured hour and
-- tries the run lock; whoever holds it checks this row, so a replica that gets the lock after the
-- first one finished finds the day's slot done instead of running it again.
CREATE TABLE retention_schedule (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- The scheduled time (an hour, UTC) of the last completed daily run.
  last_slot timestamptz NOT NULL,
  completed_at timestamptz NOT NULL DEFAULT now()
);
