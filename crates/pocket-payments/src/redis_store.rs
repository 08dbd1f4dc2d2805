//! A [`PaymentStore`] in Redis, shared by every replica: each operation is one atomic command or
//! one Lua script, so no interleaving of replicas can run a handler twice.

mod ledger;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncTypedCommands, Script};

use crate::ledger::{GivenUp, claim_token, readable, replica_name};
use crate::redact::redact_url;
use crate::store::{Claim, ClaimToken, PaymentStore, StoreError};
use crate::{Unresolved, WatchJournal, Watched};

/// The value of a done key starts with this (`done:<unix ms>`; older stores wrote `done`).
/// Claim tokens start with `c-`, so no token ever reads as done.
const DONE: &str = "done";

/// Takes the key if it is free: 1 taken, 2 done, 0 held by another claim.
const CLAIM: &str = r"
local held = redis.call('GET', KEYS[1])
if not held then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if string.sub(held, 1, 4) == 'done' then return 2 end
return 0
";

/// Marks the key done (with the server's time) for the retention, only if the token still
/// owns it.
const COMPLETE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local now = redis.call('TIME')
  local millis = now[1] * 1000 + math.floor(now[2] / 1000)
  redis.call('SET', KEYS[1], string.format('done:%d', millis), 'PX', ARGV[2])
  return 1
end
return 0
";

/// Takes (or keeps) the polling of an invoice for this replica: free or already ours → ours for
/// the lease again (1); another replica's → 0.
const TAKE_POLL: &str = r"
local owner = redis.call('GET', KEYS[1])
if (not owner) or owner == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
";

/// Forgets the key, only if the token still owns it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

/// A [`PaymentStore`] in Redis, for several replicas (or processes) that may see the same
/// payment: claims are `SET key <token> PX <lease>` when free; completing and releasing compare
/// the token first (Lua scripts), so a claim whose lease lapsed cannot touch its successor's.
/// Keys expire by themselves: claims after their lease, done payments after the retention.
///
/// The connection reconnects by itself; while Redis cannot be reached every operation fails
/// fast (the response timeout) and the pipeline answers 503, never running a handler without a
/// claim. Use `noeviction` as Redis's eviction policy (an evicted key is a forgotten payment)
/// and persistence (AOF) if a Redis restart must not forget what was done: see
/// docs/operations.md.
///
/// ```no_run
/// # async fn run() -> Result<(), pocket_payments::StoreError> {
/// use std::time::Duration;
/// use pocket_payments::RedisStore;
///
/// let store = RedisStore::builder("redis://:secret@redis.internal:6379/2")
///     .prefix("shop:pocket:")
///     .retention(Duration::from_secs(7 * 24 * 3600))
///     .connect()
///     .await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    retention: Duration,
    shown_url: String,
    scripts: Scripts,
    /// This store's identity among replicas, for the reconciler's polling.
    replica: String,
}

#[derive(Clone)]
struct Scripts {
    claim: Script,
    complete: Script,
    release: Script,
    take_poll: Script,
}

/// Builds a [`RedisStore`].
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    retention: Duration,
    response_timeout: Duration,
    connection_timeout: Duration,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shown_url)
            .field("prefix", &self.prefix)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &redact_url(&self.url, "Redis"))
            .field("prefix", &self.prefix)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store at `url`: `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS
    /// (rustls; the server's certificate is checked against the system's root certificates).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: "pocket:payments:".to_owned(),
            retention: Duration::from_secs(24 * 3600),
            response_timeout: Duration::from_secs(2),
            connection_timeout: Duration::from_secs(2),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs one of the scripts on `key` for `owner` (a claim token or this replica) and, for the
    /// scripts that set an expiry, how long it lasts.
    async fn run(
        &self,
        script: &Script,
        key: &str,
        owner: &str,
        expiry: Option<Duration>,
        operation: &'static str,
    ) -> Result<i64, StoreError> {
        let mut invocation = script.key(self.key(key));
        invocation.arg(owner);
        if let Some(expiry) = expiry {
            invocation.arg(millis(expiry));
        }
        let mut connection = self.connection.clone();
        invocation.invoke_async(&mut connection).await.map_err(|error| self.failed(operation, error))
    }

    fn failed(&self, operation: &'static str, error: redis::RedisError) -> StoreError {
        Box::new(RedisStoreError::new(operation, &self.shown_url, error))
    }
}

/// Why Redis could not do what the store asked. Boxed into a [`StoreError`]; downcast to read it.
///
/// ```no_run
/// # async fn run(store: pocket_payments::RedisStore) {
/// use pocket_payments::{PaymentStore, RedisStoreError};
///
/// if let Err(error) = store.is_done("paid:42").await {
///     match error.downcast_ref::<RedisStoreError>() {
///         Some(redis) if redis.is_unreachable() => eprintln!("Redis is down: {redis}"),
///         _ => eprintln!("{error}"),
///     }
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[error("Redis at {url} could not {operation}: {source}")]
pub struct RedisStoreError {
    operation: &'static str,
    url: String,
    unreachable: bool,
    #[source]
    source: redis::RedisError,
}

impl RedisStoreError {
    fn new(operation: &'static str, url: &str, source: redis::RedisError) -> RedisStoreError {
        let unreachable = source.is_io_error()
            || source.is_timeout()
            || source.is_connection_refusal()
            || source.is_connection_dropped();
        // Redis errors name the server, never the password; the URL is shown redacted anyway.
        RedisStoreError { operation, url: url.to_owned(), unreachable, source }
    }

    /// Whether Redis could not be reached in time (refused, dropped, timed out, I/O): the
    /// pipeline answers 503, and the connection comes back by itself.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable
    }

    /// What the store was doing: "claim a payment", "read a payment", …
    pub fn operation(&self) -> &'static str {
        self.operation
    }
}

impl RedisStoreBuilder {
    /// Prefix every key with this (default `pocket:payments:`), to share a Redis with others.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a done payment is remembered (default 24 h): the reach of "once".
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How long one operation may wait for Redis (default 2 s), and one connection attempt
    /// (default 2 s); past it the operation fails and the delivery is answered 503.
    pub fn timeouts(mut self, response: Duration, connection: Duration) -> Self {
        self.response_timeout = response;
        self.connection_timeout = connection;
        self
    }

    /// The store. Connects lazily: an unreachable Redis is not an error here, but every
    /// operation fails until it is back; a malformed URL is an error.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let shown_url = redact_url(&self.url, "Redis");
        if self.url.starts_with("rediss://") {
            // rustls needs a process-wide crypto provider; another crate may have installed one
            // already, which is as good.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
        let client = redis::Client::open(self.url.as_str())
            .map_err(|error| format!("the Redis URL {shown_url} is not usable: {error}"))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(self.response_timeout))
            .set_connection_timeout(Some(self.connection_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|error| format!("Redis at {shown_url}: {error}"))?;
        Ok(RedisStore {
            connection,
            prefix: self.prefix,
            retention: self.retention,
            shown_url,
            scripts: Scripts {
                claim: Script::new(CLAIM),
                complete: Script::new(COMPLETE),
                release: Script::new(RELEASE),
                take_poll: Script::new(TAKE_POLL),
            },
            replica: replica_name(),
        })
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// A token no other claim shares, in any process: 128 random bits.

#[async_trait]
impl PaymentStore for RedisStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let token = claim_token(&self.replica);
        let answer = self.run(&self.scripts.claim, key, token.as_str(), Some(lease), "claim a payment").await?;
        Ok(match answer {
            1 => Claim::Acquired(token),
            2 => Claim::Done,
            _ => Claim::InProgress,
        })
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        let retention = Some(self.retention);
        let answer =
            self.run(&self.scripts.complete, key, token.as_str(), retention, "record a processed payment").await?;
        Ok(answer == 1)
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        let answer = self.run(&self.scripts.release, key, token.as_str(), None, "release a claim").await?;
        Ok(answer == 1)
    }

    async fn is_done(&self, key: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let value = connection.get(self.key(key)).await.map_err(|error| self.failed("read a payment", error))?;
        Ok(value.is_some_and(|value| value.starts_with(DONE)))
    }
}

/// The reconciler's shared list: one hash of watched invoices (JSON, by key), and a short-lived
/// `polling:<key>` marker so that one replica at a time polls each.
#[async_trait]
impl WatchJournal for RedisStore {
    async fn save(&self, key: &str, watched: &Watched) -> Result<(), StoreError> {
        let json = serde_json::to_string(watched)?;
        let mut connection = self.connection.clone();
        redis::cmd("HSET")
            .arg(self.key("watching"))
            .arg(key)
            .arg(json)
            .query_async::<()>(&mut connection)
            .await
            .map_err(|error| self.failed("write a watched invoice down", error))
    }

    async fn forget(&self, key: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let removed: i64 = redis::cmd("HDEL")
            .arg(self.key("watching"))
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failed("cross a watched invoice out", error))?;
        Ok(removed > 0)
    }

    async fn find(&self, key: &str) -> Result<Option<Watched>, StoreError> {
        let mut connection = self.connection.clone();
        let value: Option<String> = redis::cmd("HGET")
            .arg(self.key("watching"))
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failed("read a watched invoice", error))?;
        Ok(value.and_then(|json| readable(&json, "a watched invoice", "Redis")))
    }

    async fn load(&self) -> Result<Vec<Watched>, StoreError> {
        let mut connection = self.connection.clone();
        let values: Vec<String> = redis::cmd("HVALS")
            .arg(self.key("watching"))
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failed("read the watched invoices", error))?;
        Ok(values.iter().filter_map(|json| readable(json, "a watched invoice", "Redis")).collect())
    }

    async fn try_poll(&self, key: &str, lease: Duration) -> Result<bool, StoreError> {
        let polling = format!("polling:{key}");
        let taken = self.run(&self.scripts.take_poll, &polling, &self.replica, Some(lease), "take a poll").await?;
        Ok(taken == 1)
    }

    /// Crosses the invoice out and writes it into the `unresolved` hash, in one transaction.
    async fn give_up(&self, key: &str, unresolved: &Unresolved, watched: &Watched) -> Result<bool, StoreError> {
        let record = GivenUp { unresolved: unresolved.clone(), watched: watched.clone() };
        let json = serde_json::to_string(&record)?;
        let mut connection = self.connection.clone();
        let (removed, _): (i64, i64) = redis::pipe()
            .atomic()
            .hdel(self.key("watching"), key)
            .hset(self.key("unresolved"), key, json)
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failed("write an unresolved invoice down", error))?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_read_as_done() {
        let token = claim_token(&replica_name());
        assert!(!token.as_str().starts_with(DONE));
    }
}
