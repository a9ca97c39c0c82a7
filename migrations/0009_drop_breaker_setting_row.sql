-- The breaker's settings live in setting_version since 0006 (one key per field, versioned and
-- audited) and are read from there; the old one-row-per-module table has no reader left.
DROP TABLE setting;
