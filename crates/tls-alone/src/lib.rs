//! Proof that each published crate that makes https requests speaks TLS when it is the only
//! pocket-rs crate a user depends on, with each of its TLS features (`tests/tls.rs`). This crate
//! depends on pocket-http, pocket-jwt and pocket-sandbox without their default features, each
//! only through a feature of its own (`http-rustls`, `jwt-native-tls`, …), so that
//! `cargo test -p tls-alone --no-default-features --features http-rustls` builds pocket-http
//! with rustls and nothing else of ours — no dev-dependency, no other crate's features.
//! `cargo xtask features` runs it once per crate and TLS feature.
//!
//! The probe: a listener that records whether the first bytes it receives are a TLS handshake
//! record (a ClientHello), then hangs up.
//!
//! A client built without any TLS feature never connects ("scheme is not supported"), so the
//! probe sees nothing; one with TLS sends a ClientHello, whatever certificates it would trust.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;

/// A loopback listener that counts the TLS ClientHellos it receives.
pub struct TlsProbe {
    port: u16,
    hellos: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsProbe {
    /// Listens on 127.0.0.1 at a free port.
    pub async fn start() -> TlsProbe {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port on 127.0.0.1");
        let port = listener.local_addr().expect("a bound address").port();
        let hellos = Arc::new(AtomicUsize::new(0));
        let counted = hellos.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counted = counted.clone();
                tokio::spawn(async move {
                    let mut head = [0u8; 6];
                    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut head)).await;
                    // A handshake record (22) of TLS 1.x (3.x) carrying a ClientHello (1).
                    if matches!(read, Ok(Ok(_))) && head[0] == 22 && head[1] == 3 && head[5] == 1 {
                        counted.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        TlsProbe { port, hellos, task }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// How many ClientHellos arrived so far.
    pub fn hellos(&self) -> usize {
        self.hellos.load(Ordering::SeqCst)
    }

    /// Waits up to `limit` for a first ClientHello; whether one came.
    pub async fn saw_hello_within(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.hellos() == 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

impl Drop for TlsProbe {
    fn drop(&mut self) {
        self.task.abort();
    }
}
