//! A `redis-server` of a test's own, on 127.0.0.1 and a free port, in a directory of its own.

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
        let binary = crate::required_program("REDIS_SERVER", "redis-server", "Debian's redis-server")?;
        let port = crate::free_port();
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

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts (again) with the same port and data directory.
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

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as when a
    /// server hangs. [`resume`](Self::resume) thaws it.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the server runs");
        let sent = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill runs");
        assert!(sent.success(), "kill {signal} failed");
    }

    /// Kills it, as a crash would.
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
