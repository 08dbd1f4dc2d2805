//! A `redis-server` of a test's own, on 127.0.0.1 and a free port (shared by the Redis tests of
//! pocket-payments and pocket-axum). Without `redis-server` the test says it was skipped; with
//! `CI=true` it fails.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` of the test's own, on 127.0.0.1 and a free port, in a directory of its own.
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    dir: PathBuf,
    persistent: bool,
    extra: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one, or says the test is skipped (and fails under `CI=true`) when there is none.
    pub fn start(persistent: bool) -> Option<RedisServer> {
        let binary = std::env::var_os("REDIS_SERVER").map(PathBuf::from).unwrap_or_else(|| "redis-server".into());
        if Command::new(&binary).arg("--version").output().is_err() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "redis-server is required in CI (apt-get install redis-server)"
            );
            eprintln!("SKIPPED: this test needs Debian's redis-server (or REDIS_SERVER); it did not run");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("pocket-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = RedisServer { binary, port, dir, persistent, extra: Vec::new(), child: None };
        server.run();
        Some(server)
    }

    /// Restarts it requiring `password` (`--requirepass`).
    pub fn require_password(&mut self, password: &str) {
        self.stop();
        self.extra = vec!["--requirepass".to_owned(), password.to_owned()];
        self.run();
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn run(&mut self) {
        let appendonly = if self.persistent { "yes" } else { "no" };
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", appendonly, "--appendfsync", "always", "--maxmemory-policy", "noeviction"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
