//! A replica of a merchant's backend in a process of its own, driven through its stdin and
//! read through its stdout, for the multi-process tests.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A replica in a process of its own (an example of this crate: `redis_replica`, `pg_replica`).
pub struct Replica {
    pub child: Child,
    stdin: ChildStdin,
    pub lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

// Only the PostgreSQL tests kill and drain replicas.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
impl Replica {
    pub fn start(example: &str, url: &str) -> Replica {
        let exe = std::env::current_exe().unwrap();
        let binary = exe.parent().unwrap().parent().unwrap().join("examples").join(example);
        assert!(binary.exists(), "{} is built by `cargo test` with the example's feature", binary.display());
        let mut child = Command::new(binary)
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the replica starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Replica { child, stdin, lines, seen: Vec::new() }
    }

    pub fn deliver(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits for a line, keeping every line seen.
    pub fn wait_for(&mut self, wanted: &str) {
        self.wait_until(|seen| seen.iter().any(|line| line == wanted));
    }

    /// Waits until the lines seen satisfy `done`, up to 20 s.
    pub fn wait_until(&mut self, done: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("the replica did not get there within 20 s; saw {:?}", self.seen),
            }
        }
    }

    /// Takes in every line printed so far.
    pub fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.seen.iter().filter(|line| line.starts_with(prefix)).count()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
