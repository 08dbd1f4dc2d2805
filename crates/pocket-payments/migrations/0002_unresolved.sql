-- pocket-payments, schema version 2: the invoices the reconciler gave up on, kept for
-- operators (`pocket payments unresolved`) until one is watched again.

CREATE TABLE IF NOT EXISTS __SCHEMA__.__PREFIX__unresolved (
    key         text PRIMARY KEY,
    -- What the `unresolved` callback got, and the watch as it was (JSON).
    given_up    text NOT NULL,
    given_up_at timestamptz NOT NULL
);
