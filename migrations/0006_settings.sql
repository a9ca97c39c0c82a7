-- Runtime settings (core/settings) as versioned rows: a change inserts the next version of its
-- key, so the table is also the history, and the current value is the highest version. A value
-- is the JSON its setting's schema encodes; modules declare their keys (and defaults) at start.
CREATE TABLE setting_version (
  key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$' AND length(key) <= 128),
  version integer NOT NULL CHECK (version >= 1),
  value jsonb NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  -- The audit actor: {type, id, name, person?}.
  changed_by jsonb NOT NULL CHECK (jsonb_typeof(changed_by) = 'object' AND changed_by ?& array['type', 'id', 'name']),
  reason text,
  PRIMARY KEY (key, version)
);

-- The breaker's settings object becomes one key per field, version 1, with the old row's time
-- and author. The old table stays until the breaker reads its settings from here.
INSERT INTO setting_version (key, version, value, changed_at, changed_by, reason)
SELECT 'breaker.' || field.name,
       1,
       field.value,
       s.updated_at,
       CASE WHEN jsonb_typeof(s.updated_by) = 'object' AND s.updated_by ?& array['type', 'id', 'name'] THEN s.updated_by
            ELSE '{"type": "system", "id": "system:migration", "name": "migration"}'::jsonb END,
       'moved from the breaker settings (migration 0006)'
FROM setting s
-- jsonb_each refuses a non-object: such a value moves nothing.
CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(s.value) = 'object' THEN s.value ELSE '{}'::jsonb END)
  AS field(name, value)
WHERE s.key = 'breaker'
  AND field.name IN ('quiet_period_seconds', 'reset_approvals');
