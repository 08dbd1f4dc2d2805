//! pocket-cli's integration tests, one binary: each module runs the `pocket` program against the
//! sandbox (or a real Redis and PostgreSQL for `payments`, with those features).

mod common;
mod flows;
mod merchant;
#[cfg(all(feature = "redis", feature = "postgres"))]
mod payments;
mod tls;
