-- Leases of the singleton fibers (core/leases, ADR 0022): a fiber declared `replicas: "one"` runs
-- only in the replica whose row this is, until `expires_at`. Every time is the database's clock
-- (`now()`), never a process's. The holder renews its row every few seconds; another replica
-- takes the row over only once it has expired, and the holder deletes it when it stops. Deleting a
-- row by hand makes its holder stop the fiber at its next renewal, and the replicas compete again.
CREATE TABLE fiber_leases (
  -- The fiber's name (`retention.daily`).
  name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200),
  -- The process holding it, `host:pid:random`, so an operator can tell which one runs the fiber.
  holder text NOT NULL CHECK (length(holder) BETWEEN 1 AND 300),
  -- When this holder took it (kept across its renewals).
  acquired_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
