-- pocket-payments, schema version 1: payments (claims and done records), the reconciler's
-- watched invoices, and who polls each. `__SCHEMA__` and `__PREFIX__` are replaced by the
-- store's schema and table prefix before the migration runs.

CREATE TABLE IF NOT EXISTS __SCHEMA__.__PREFIX__payments (
    -- `paid:<invoice>` or `failed:<invoice>`, the invoice as Pocket identifies it.
    key         text PRIMARY KEY,
    -- `held` by a claim until `lease_until`, or `done` since `done_at`.
    state       text NOT NULL CHECK (state IN ('held', 'done')),
    token       text,
    lease_until timestamptz,
    done_at     timestamptz,
    CHECK ((state = 'held') = (token IS NOT NULL AND lease_until IS NOT NULL)),
    CHECK ((state = 'done') = (done_at IS NOT NULL))
);

-- Retention prunes done rows oldest first, and claims that lapsed long ago.
CREATE INDEX IF NOT EXISTS __PREFIX__payments_done_at
    ON __SCHEMA__.__PREFIX__payments (done_at) WHERE state = 'done';
CREATE INDEX IF NOT EXISTS __PREFIX__payments_lease_until
    ON __SCHEMA__.__PREFIX__payments (lease_until) WHERE state = 'held';

CREATE TABLE IF NOT EXISTS __SCHEMA__.__PREFIX__watched (
    key      text PRIMARY KEY,
    -- The watched invoice as JSON (pocket_payments::Watched).
    watched  text NOT NULL,
    saved_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS __SCHEMA__.__PREFIX__pollers (
    key     text PRIMARY KEY,
    replica text NOT NULL,
    until   timestamptz NOT NULL
);
