//! A PostgreSQL server of a test's own, on 127.0.0.1 and a free port, in a directory of its own.
//! PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system user
//! (which Debian's package creates), in a directory that user owns.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A PostgreSQL server of the test's own.
pub struct PostgresServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    user: Option<(u32, u32)>,
    child: Option<Child>,
    durable: bool,
}

/// Where the server's programs are: `$POSTGRES_BIN` if set, else the directory of `postgres`
/// on the PATH, else the newest `/usr/lib/postgresql/<version>/bin` (Debian keeps them there).
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("POSTGRES_BIN") {
        return Some(PathBuf::from(dir));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("postgres").is_file() && dir.join("initdb").is_file())
        // A link to the server's own directory (as /usr/local/bin may hold) leads to its tools.
        .and_then(|dir| std::fs::canonicalize(dir.join("postgres")).ok()?.parent().map(PathBuf::from));
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The uid and gid of the `postgres` user, when this process is root.
fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres"))
            .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))?
    })
}

fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().any(|line| line.strip_prefix("Uid:").is_some_and(|ids| ids.split_whitespace().next() == Some("0")))
}

impl PostgresServer {
    /// Starts one (`fsync` off: a test's data need not survive the machine), or says the test
    /// is skipped (and fails under `CI=true`) when PostgreSQL is not installed.
    pub fn start() -> Option<PostgresServer> {
        PostgresServer::start_with(false)
    }

    /// Starts one with `fsync` and `synchronous_commit` on, as production runs (benchmarks).
    pub fn start_durable() -> Option<PostgresServer> {
        PostgresServer::start_with(true)
    }

    fn start_with(durable: bool) -> Option<PostgresServer> {
        let Some(bin) = bin_dir().filter(|bin| bin.join("initdb").is_file()) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is required in CI: no initdb/postgres was found (Debian's postgresql, or $POSTGRES_BIN)"
            );
            eprintln!("SKIPPED: this test needs PostgreSQL (Debian's postgresql, or $POSTGRES_BIN); it did not run");
            return None;
        };
        let user = if is_root() {
            Some(postgres_user().expect("as root, PostgreSQL runs as the `postgres` user, which does not exist"))
        } else {
            None
        };
        let port = crate::free_port();
        let dir = std::env::temp_dir().join(format!("pocket-postgres-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the data directory's parent");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("the data directory is given to postgres");
        }
        let mut server = PostgresServer { bin, dir, port, user, child: None, durable };
        let initdb = server
            .command("initdb")
            .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-instructions", "--no-sync", "-D"])
            .arg(server.data())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("initdb runs");
        assert!(initdb.status.success(), "initdb failed: {}", String::from_utf8_lossy(&initdb.stderr));
        server.run();
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        command.current_dir(&self.dir);
        command
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `database` as the `postgres` superuser (no password: trust on loopback).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates `database` and gives its URL.
    pub fn create_database(&self, database: &str) -> String {
        let created = self
            .command("createdb")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", database])
            .output()
            .expect("createdb runs");
        assert!(created.status.success(), "createdb failed: {}", String::from_utf8_lossy(&created.stderr));
        self.url(database)
    }

    /// Runs `sql` in `database` with `psql`, and gives what it printed (unaligned, tuples only).
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let psql = if self.bin.join("psql").is_file() { self.bin.join("psql") } else { PathBuf::from("psql") };
        let output = Command::new(psql)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", database])
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql runs");
        assert!(output.status.success(), "psql failed on {sql:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Starts (again) on the same port and data directory, and waits until it takes connections.
    /// After a crash the old server's sessions may still hold its shared memory for a moment,
    /// and the new one refuses to start: it is started again until it stays up.
    pub fn run(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut child = self.spawn();
            while !self.is_ready() {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                assert!(Instant::now() < deadline, "PostgreSQL did not get ready within 30 s");
                std::thread::sleep(Duration::from_millis(50));
            }
            if child.try_wait().ok().flatten().is_none() {
                self.child = Some(child);
                return;
            }
            assert!(Instant::now() < deadline, "PostgreSQL did not stay up");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn spawn(&self) -> Child {
        let durability = if self.durable { "on" } else { "off" };
        self.command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.dir.display()))
            .args(["-c", &format!("fsync={durability}"), "-c", &format!("synchronous_commit={durability}")])
            .args(["-c", "max_connections=300", "-c", "shared_buffers=64MB"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts")
    }

    fn is_ready(&self) -> bool {
        self.command("pg_isready")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-q"])
            .status()
            .is_ok_and(|status| status.success())
    }

    /// For a server kept in a `static` (whose destructor never runs): a watchdog process shuts
    /// it down and removes its directory once this process has ended, however it ended.
    pub fn shut_down_with_this_process(self) -> PostgresServer {
        if let Some(child) = &self.child {
            let script = format!(
                "while kill -0 {test} 2>/dev/null; do sleep 0.5; done; kill -QUIT {server} 2>/dev/null; sleep 2; kill -KILL {server} 2>/dev/null; rm -rf '{dir}'",
                test = std::process::id(),
                server = child.id(),
                dir = self.dir.display()
            );
            let _ = Command::new("sh")
                .args(["-c", &script])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
        }
        self
    }

    /// A fast shutdown (SIGINT): sessions are ended, open transactions rolled back.
    pub fn stop_fast(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "INT");
            let _ = child.wait();
        }
    }

    /// `kill -9` of the postmaster, as a crash would; its sessions end when they notice.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status();
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // An immediate shutdown: nothing of a test's server needs to be kept.
            signal(child.id(), "QUIT");
            let deadline = Instant::now() + Duration::from_secs(5);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
