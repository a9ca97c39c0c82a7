-- The circuit breaker: one row per scope holds the truth; every transition is appended to the
-- history in the same transaction as the change and its audit entry.
CREATE TABLE breaker_scope (
  scope text PRIMARY KEY CHECK (scope ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  state text NOT NULL CHECK (state IN ('OPEN', 'TRIPPED', 'QUIET_PERIOD')),
  -- Compare-and-set token: every transition writes version + 1 where version is what it read.
  version bigint NOT NULL CHECK (version > 0),
  tripped_at timestamptz,
  trip_reason text,
  trip_details jsonb,
  tripped_by jsonb,
  trip_source text CHECK (trip_source IN ('manual', 'automatic')),
  reset_at timestamptz,
  reset_by jsonb,
  quiet_until timestamptz,
  trip_count_today integer NOT NULL DEFAULT 0,
  -- The UTC day trip_count_today counts; another day reads as 0.
  trip_count_day date,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (state <> 'QUIET_PERIOD' OR quiet_until IS NOT NULL)
);

INSERT INTO breaker_scope (scope, state, version) VALUES ('global', 'OPEN', 1);

CREATE TABLE breaker_transition (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  scope text NOT NULL REFERENCES breaker_scope (scope),
  kind text NOT NULL CHECK (kind IN ('trip', 'trip_repeated', 'reset', 'quiet_period_ended', 'reset_requested')),
  from_state text NOT NULL,
  to_state text NOT NULL,
  version bigint NOT NULL,
  source text CHECK (source IN ('manual', 'automatic')),
  actor jsonb NOT NULL,
  reason text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  at timestamptz NOT NULL
);

CREATE INDEX breaker_transition_scope_idx ON breaker_transition (scope, id DESC);

-- Four-eyes resets: a request another operator approves within the window.
CREATE TABLE breaker_reset_request (
  id uuid PRIMARY KEY,
  scope text NOT NULL REFERENCES breaker_scope (scope),
  base_version bigint NOT NULL,
  requested_by jsonb NOT NULL,
  reason text NOT NULL,
  requested_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'expired', 'superseded')),
  approved_by jsonb,
  approved_at timestamptz
);

CREATE INDEX breaker_reset_request_pending_idx ON breaker_reset_request (scope) WHERE status = 'pending';

-- Operator settings (the administration issue adds its own keys): one JSON value per key.
CREATE TABLE setting (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by jsonb
);
