-- The audit log: every state change and every denied request. Append-only: triggers that fire
-- always (even under session_replication_role = replica) refuse UPDATE, DELETE and TRUNCATE.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Millisecond precision: the hash chain covers the time as JavaScript renders it.
  occurred_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'anonymous')),
  actor_id text NOT NULL,
  actor_name text NOT NULL,
  action text NOT NULL,
  resource_type text NOT NULL,
  resource_id text,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
  reason text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  client_address text,
  request_id text
);

-- Few, cheap indexes: every one is paid for on each of tens of thousands of inserts a second.
-- Time follows the id, so a BRIN index serves time ranges; pages walk the primary key backwards.
-- Filters by actor and by resource are the selective ones an auditor runs on a large log.
CREATE INDEX audit_log_occurred_at_idx ON audit_log USING brin (occurred_at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id);
CREATE INDEX audit_log_resource_idx ON audit_log (resource_type, resource_id);

-- The hash chain, in the order the sealer sealed the entries: each seal's hash covers its
-- entry's content and the previous seal's hash. Append-only as well.
CREATE TABLE audit_seal (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  entry_id bigint NOT NULL UNIQUE REFERENCES audit_log (id),
  prev_hash text NOT NULL,
  hash text NOT NULL,
  sealed_at timestamptz NOT NULL DEFAULT now()
);

-- Entries waiting for the sealer. A work queue, not evidence: an entry removed from here without
-- a seal shows up in `breakwater audit verify` as unsealed.
CREATE TABLE audit_pending (
  entry_id bigint PRIMARY KEY
);

-- Once per statement, over all its rows: a group of a thousand entries costs one trigger call.
CREATE FUNCTION audit_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_pending (entry_id) SELECT id FROM inserted;
  RETURN NULL;
END
$$;

CREATE TRIGGER audit_log_enqueue AFTER INSERT ON audit_log
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION audit_enqueue();

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_seal
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_enqueue;
ALTER TABLE audit_seal ENABLE ALWAYS TRIGGER audit_seal_append_only;
ALTER TABLE audit_seal ENABLE ALWAYS TRIGGER audit_seal_no_truncate;
