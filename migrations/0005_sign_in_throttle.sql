-- Sign-in throttling per address as well as per account (docs/CONCEPTS/security.md).
-- A failure now names the client address it came from (IPv4, or an IPv6 /64, as
-- `src/core/auth/throttle-address.ts` normalises it), and a failure for an identifier that matches
-- no account is counted too, against its address only (user_id NULL).
ALTER TABLE login_failures ALTER COLUMN user_id DROP NOT NULL;
-- 'unknown' is also what the application writes when a request has no address; rows from before
-- this migration get it and leave the window within 15 minutes.
ALTER TABLE login_failures ADD COLUMN client_address text NOT NULL DEFAULT 'unknown';
-- Serves the per-address count and the per-account-and-address count: fewer than 31 rows of an
-- address are ever inside the window. (user_id, failed_at) serves the account-wide count.
CREATE INDEX login_failures_address_idx ON login_failures (client_address, failed_at);

-- The key of the keyed hash (HMAC-SHA-256) under which a sign-in with an identifier that matches
-- no account is audited: what was typed (maybe a password in the wrong field) is never stored.
-- One row, written by the first process that needs it (32 random bytes, hex); it never leaves the
-- database and the processes. Deleting the row makes a new key: older hashes then match nothing.
CREATE TABLE identifier_hash_key (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  key text NOT NULL CHECK (key ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);
