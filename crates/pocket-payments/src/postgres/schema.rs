//! The store's tables: their names (schema and prefix, checked, since they are written into SQL),
//! every statement the store runs, and the migrations that create them.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

/// The migrations, in order; each is plain SQL with `__SCHEMA__` and `__PREFIX__` to fill in.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "payments, watched invoices, pollers", include_str!("../../migrations/0001_payments.sql")),
    (2, "unresolved invoices", include_str!("../../migrations/0002_unresolved.sql")),
];

/// The newest schema version this crate knows.
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// Where the store's tables are: `<schema>.<prefix>payments` and so on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    pub schema: String,
    pub prefix: String,
}

impl Names {
    /// Both names, if each is a plain lower-case SQL identifier (letters, digits, `_`; not
    /// starting with a digit; short enough for the longest table and index name).
    pub fn new(schema: &str, prefix: &str) -> Result<Names, String> {
        let plain = |name: &str, empty_ok: bool, max: usize| {
            (empty_ok || !name.is_empty())
                && name.len() <= max
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && !name.as_bytes().first().is_some_and(u8::is_ascii_digit)
        };
        if !plain(schema, false, 63) {
            return Err(format!("the schema name {schema:?} is not a plain lower-case SQL identifier"));
        }
        // 63 bytes is PostgreSQL's limit; the longest name made from the prefix is 30 more.
        if !plain(prefix, true, 33) {
            return Err(format!("the table prefix {prefix:?} is not a plain lower-case SQL identifier of ≤ 33 bytes"));
        }
        Ok(Names { schema: schema.to_owned(), prefix: prefix.to_owned() })
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{}{name}", self.schema, self.prefix)
    }

    /// Fills a migration's placeholders.
    fn fill(&self, sql: &str) -> String {
        sql.replace("__SCHEMA__", &self.schema).replace("__PREFIX__", &self.prefix)
    }

    /// The migrator of this schema and prefix, keeping its own record of applied versions.
    pub fn migrator(&self) -> Migrator {
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                let sql = AssertSqlSafe(self.fill(sql)).into_sql_str();
                Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, sql, false)
            })
            .collect();
        let mut migrator = Migrator::with_migrations(migrations);
        migrator.dangerous_set_table_name(self.table("migrations"));
        if self.schema != "public" {
            migrator.create_schema(self.schema.clone());
        }
        migrator
    }

    /// The key space of this store's transaction-scoped advisory locks: two stores in one
    /// database (other schemas or prefixes) do not share it. FNV-1a of the payments table's name.
    pub fn lock_class(&self) -> i32 {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in self.table("payments").bytes() {
            hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
        }
        i32::from_ne_bytes(hash.to_ne_bytes())
    }
}

/// Every statement the store runs, made once with the table names filled in.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    pub claim: SqlStr,
    pub state: SqlStr,
    pub complete: SqlStr,
    pub release: SqlStr,
    pub is_done: SqlStr,
    pub take_in_transaction: SqlStr,
    pub save: SqlStr,
    pub forget: SqlStr,
    pub load: SqlStr,
    pub find: SqlStr,
    pub try_poll: SqlStr,
    pub give_up: SqlStr,
    pub records: SqlStr,
    pub journal: SqlStr,
    pub unresolved: SqlStr,
    pub given_up: SqlStr,
    pub rewatch: SqlStr,
    pub prune_payments: SqlStr,
    pub prune_pollers: SqlStr,
    pub version: SqlStr,
}

fn sql(text: String) -> SqlStr {
    AssertSqlSafe(text).into_sql_str()
}

impl Statements {
    pub fn new(names: &Names) -> Statements {
        let payments = names.table("payments");
        let watched = names.table("watched");
        let pollers = names.table("pollers");
        let migrations = names.table("migrations");
        let unresolved = names.table("unresolved");
        Statements {
            // Free, or held by a claim whose lease lapsed → held under the new token. The lease
            // is counted on the database's clock, which every replica shares.
            claim: sql(format!(
                "INSERT INTO {payments} AS p (key, state, token, lease_until) \
                 VALUES ($1, 'held', $2, clock_timestamp() + make_interval(secs => $3)) \
                 ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, lease_until = EXCLUDED.lease_until \
                 WHERE p.state = 'held' AND p.lease_until <= clock_timestamp() \
                 RETURNING p.token"
            )),
            state: sql(format!(
                "SELECT state = 'done' AS done, lease_until > clock_timestamp() AS live FROM {payments} WHERE key = $1"
            )),
            complete: sql(format!(
                "UPDATE {payments} SET state = 'done', token = NULL, lease_until = NULL, done_at = clock_timestamp() \
                 WHERE key = $1 AND state = 'held' AND token = $2 AND lease_until > clock_timestamp()"
            )),
            release: sql(format!(
                "DELETE FROM {payments} \
                 WHERE key = $1 AND state = 'held' AND token = $2 AND lease_until > clock_timestamp()"
            )),
            is_done: sql(format!("SELECT EXISTS (SELECT 1 FROM {payments} WHERE key = $1 AND state = 'done')")),
            // Inside the handler's transaction, in one round trip: the server's own bounds on the
            // transaction (each statement, and the transaction left idle); a transaction-scoped advisory
            // lock on the key that nobody waits for (a concurrent delivery gets `false` at once),
            // then the payment's row written `done` — visible to others only if the transaction
            // commits — and the row as it was before this statement, to say why it was not taken.
            take_in_transaction: sql(format!(
                "WITH bounds AS MATERIALIZED (SELECT set_config('statement_timeout', $3, true), \
                   set_config('idle_in_transaction_session_timeout', $4, true)), \
                 lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($2, hashtext($1)) AS got FROM bounds), \
                 taken AS ( \
                   INSERT INTO {payments} AS p (key, state, done_at) \
                   SELECT $1, 'done', clock_timestamp() FROM lock WHERE lock.got \
                   ON CONFLICT (key) DO UPDATE \
                     SET state = 'done', token = NULL, lease_until = NULL, done_at = EXCLUDED.done_at \
                     WHERE p.state = 'held' AND p.lease_until <= clock_timestamp() \
                   RETURNING 1) \
                 SELECT (SELECT got FROM lock) AS got, EXISTS (SELECT 1 FROM taken) AS taken, \
                   (SELECT state = 'done' FROM {payments} WHERE key = $1) AS was_done"
            )),
            save: sql(format!(
                "INSERT INTO {watched} (key, watched, saved_at) VALUES ($1, $2, clock_timestamp()) \
                 ON CONFLICT (key) DO UPDATE SET watched = EXCLUDED.watched, saved_at = EXCLUDED.saved_at"
            )),
            forget: sql(format!(
                "WITH gone AS (DELETE FROM {watched} WHERE key = $1 RETURNING 1), \
                 freed AS (DELETE FROM {pollers} WHERE key = $1) \
                 SELECT EXISTS (SELECT 1 FROM gone)"
            )),
            load: sql(format!("SELECT watched FROM {watched} ORDER BY saved_at")),
            find: sql(format!("SELECT watched FROM {watched} WHERE key = $1")),
            try_poll: sql(format!(
                "INSERT INTO {pollers} AS o (key, replica, until) \
                 VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3)) \
                 ON CONFLICT (key) DO UPDATE SET replica = EXCLUDED.replica, until = EXCLUDED.until \
                 WHERE o.replica = EXCLUDED.replica OR o.until <= clock_timestamp() \
                 RETURNING 1"
            )),
            give_up: sql(format!(
                "WITH gone AS (DELETE FROM {watched} WHERE key = $1 RETURNING 1), \
                 freed AS (DELETE FROM {pollers} WHERE key = $1), \
                 noted AS (INSERT INTO {unresolved} (key, given_up, given_up_at) VALUES ($1, $2, clock_timestamp()) \
                   ON CONFLICT (key) DO UPDATE SET given_up = EXCLUDED.given_up, given_up_at = EXCLUDED.given_up_at) \
                 SELECT EXISTS (SELECT 1 FROM gone)"
            )),
            records: sql(format!(
                "SELECT key, state, token, floor(extract(epoch FROM lease_until) * 1000)::int8 AS until_ms, \
                 floor(extract(epoch FROM done_at) * 1000)::int8 AS done_ms FROM {payments} WHERE key = ANY($1)"
            )),
            journal: sql(format!(
                "SELECT w.watched, p.replica FROM {watched} w \
                 LEFT JOIN {pollers} p ON p.key = w.key AND p.until > clock_timestamp() ORDER BY w.saved_at"
            )),
            unresolved: sql(format!("SELECT given_up FROM {unresolved} ORDER BY given_up_at")),
            given_up: sql(format!("SELECT given_up FROM {unresolved} WHERE key = $1")),
            // Watched again and off the unresolved list, in one statement.
            rewatch: sql(format!(
                "WITH off AS (DELETE FROM {unresolved} WHERE key = $1 RETURNING 1), \
                 saved AS (INSERT INTO {watched} (key, watched, saved_at) VALUES ($1, $2, clock_timestamp()) \
                   ON CONFLICT (key) DO UPDATE SET watched = EXCLUDED.watched, saved_at = EXCLUDED.saved_at) \
                 SELECT EXISTS (SELECT 1 FROM off)"
            )),
            // One bounded batch: done rows past the retention, claims that lapsed an hour ago.
            // Rows locked by a transaction at work are skipped, never waited for.
            prune_payments: sql(format!(
                "WITH old AS ( \
                   SELECT key FROM {payments} \
                   WHERE (state = 'done' AND done_at < clock_timestamp() - make_interval(secs => $1)) \
                      OR (state = 'held' AND lease_until < clock_timestamp() - interval '1 hour') \
                   LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 DELETE FROM {payments} p USING old WHERE p.key = old.key"
            )),
            prune_pollers: sql(format!(
                "WITH old AS ( \
                   SELECT key FROM {pollers} WHERE until < clock_timestamp() - interval '1 hour' \
                   LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 DELETE FROM {pollers} o USING old WHERE o.key = old.key"
            )),
            version: sql(format!("SELECT max(version) FROM {migrations} WHERE success")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_identifiers_are_written_into_sql() {
        assert!(Names::new("public", "pocket_").is_ok());
        assert!(Names::new("shop_2", "").is_ok());
        for (schema, prefix) in
            [("", "p_"), ("Public", "p_"), ("a;drop", "p_"), ("1a", "p_"), ("s", "p\"x"), ("s", "p x"), ("s", "é")]
        {
            assert!(Names::new(schema, prefix).is_err(), "{schema:?} {prefix:?}");
        }
        assert!(Names::new("s", &"p".repeat(34)).is_err(), "the longest name must fit in 63 bytes");
    }

    #[test]
    fn migrations_fill_every_placeholder_and_versions_are_in_order() {
        let names = Names::new("shop", "pay_").unwrap();
        for (version, _, sql) in MIGRATIONS {
            let filled = names.fill(sql);
            assert!(!filled.contains("__"), "migration {version} keeps a placeholder");
            assert!(filled.contains("shop.pay_"), "migration {version} names no table of the store");
        }
        let versions: Vec<i64> = MIGRATIONS.iter().map(|(version, _, _)| *version).collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    }

    #[test]
    fn two_stores_lock_apart() {
        let a = Names::new("public", "pocket_").unwrap().lock_class();
        let b = Names::new("shop", "pocket_").unwrap().lock_class();
        assert_ne!(a, b);
    }
}
