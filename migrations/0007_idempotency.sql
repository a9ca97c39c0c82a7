-- Idempotency keys of the JSON API (core/idempotency, docs/CONCEPTS/idempotency.md): a `POST`
-- under /api/v1 with an `Idempotency-Key` header is claimed here by one atomic insert, executed
-- once, and its answer kept so a retry with the same key replays it instead of acting again.
-- Keys are scoped to the caller (`principal`: `user:<id>` or `api_key:<id>`), so two callers never
-- share a key or see each other's answers.
CREATE TABLE idempotency_key (
  principal text NOT NULL CHECK (length(principal) BETWEEN 1 AND 200),
  key text NOT NULL CHECK (key ~ '^[!-~]{1,255}$'),
  -- SHA-256 (hex) over method, path with query and the SHA-256 of the raw body.
  fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
  -- For an operator reading the table; the fingerprint is what is compared.
  method text NOT NULL,
  path text NOT NULL,
  state text NOT NULL CHECK (state IN ('in_progress', 'completed')),
  -- The claim of the request executing now: only its holder may complete or release the row.
  claim_token uuid NOT NULL,
  -- While in progress: the executing process renews this; past it, the claim is a dead process's
  -- and a retry of the same request may take it over.
  locked_until timestamptz,
  response_status integer CHECK (response_status BETWEEN 100 AND 599),
  -- The few headers worth replaying (content-type, location, retry-after), as a JSON object.
  response_headers jsonb,
  response_body bytea,
  -- The answer carried a secret (`Cache-Control: no-store`, e.g. a new API key): its body is not
  -- kept, and a retry is told the request was executed instead of getting the answer again.
  withheld boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  completed_at timestamptz,
  -- The key is forgotten after this (the TTL setting `http.idempotency_ttl_hours`); the retention
  -- job deletes the row.
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (principal, key),
  CHECK (state <> 'in_progress' OR locked_until IS NOT NULL),
  CHECK (state <> 'completed' OR (response_status IS NOT NULL AND completed_at IS NOT NULL))
);

-- Retention deletes by age; the claim path reads by primary key only.
CREATE INDEX idempotency_key_expires_at_idx ON idempotency_key (expires_at);
