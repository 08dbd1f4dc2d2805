//! Runs the real `pocket` binary against an in-process sandbox on a random port, with a clean
//! environment: no POCKET_* from the developer's shell, and a working directory without `.env`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

use pocket_sandbox::Sandbox;

pub const SECRET: &str = "sandbox-secret";

/// What a run of `pocket` printed, and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    /// Standard output as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }

    /// Both streams, for "never printed" checks.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A directory of its own for each run, so that no `.env` is read unless a test writes one.
pub fn empty_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pocket-cli-test-{}-{}", std::process::id(), fastrand_id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn fastrand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// `pocket` with nothing from the caller's environment that could change what it does.
pub fn pocket() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pocket"));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("POCKET_") || name == "NO_COLOR" || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command.current_dir(empty_dir()).stdin(std::process::Stdio::null()).kill_on_drop(true);
    command
}

/// `pocket` pointed at `sandbox` with its first client's credentials in the environment.
pub fn pocket_at(sandbox: &Sandbox) -> tokio::process::Command {
    let mut command = pocket();
    command
        .env("POCKET_SSO_URL", sandbox.base_url())
        .env("POCKET_API_URL", format!("{}/merchant", sandbox.base_url()))
        .env("POCKET_CLIENT_ID", &sandbox.clients()[0].client_id)
        .env("POCKET_CLIENT_SECRET", &sandbox.clients()[0].client_secret);
    command
}

/// Runs `command` with `args` to the end.
pub async fn run(mut command: tokio::process::Command, args: &[&str]) -> Run {
    Run::from(command.args(args).output().await.expect("pocket runs"))
}

/// Runs `command` with `args`, `input` on standard input.
pub async fn run_with_input(mut command: tokio::process::Command, args: &[&str], input: &str) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut child = command
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pocket starts");
    let mut stdin = child.stdin.take().expect("a stdin pipe");
    stdin.write_all(input.as_bytes()).await.expect("input written");
    drop(stdin);
    Run::from(child.wait_with_output().await.expect("pocket ends"))
}
