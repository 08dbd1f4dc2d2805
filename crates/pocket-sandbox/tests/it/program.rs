//! The `pocket-sandbox` program: real help, exit codes, and its options taking effect.

use std::process::{Command, Stdio};

fn sandbox(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pocket-sandbox")).args(args).stdin(Stdio::null()).output().unwrap()
}

#[test]
fn help_says_what_it_is_and_every_option_and_exits_0() {
    let out = sandbox(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "local Pocket",
        "--port",
        "--webview-port",
        "--mini-app",
        "--webhook-style",
        "--state-case",
        "--seed",
        "sandbox-merchant",
        "/_sandbox",
        "Example",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn an_unknown_option_or_bad_value_exits_2_and_says_which() {
    let out = sandbox(&["--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bogus"));
    let out = sandbox(&["--port", "http"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
}
