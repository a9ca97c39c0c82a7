-- One row that identifies this installation: created by the first start, shown on the About page
-- and used later to tell replicas of one installation apart from another installation's.
CREATE TABLE installation (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  singleton boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton),
  created_at timestamptz NOT NULL DEFAULT now()
);
