//! `cargo run -p pocket-sandbox`: a local Pocket on 127.0.0.1 until Ctrl-C.
//!
//! Options: `--port N` (default 8780; 0 picks any free port), `--webview-port N` (where the
//! wallet's web view shows the mini-app; default 8781), `--mini-app URL` (the mini-app).
//! Log detail follows `RUST_LOG` (default `info`).

use std::process::ExitCode;

use pocket_sandbox::SandboxConfig;

const USAGE: &str = "usage: pocket-sandbox [--port N] [--webview-port N] [--mini-app URL]";

fn parse_args() -> Result<SandboxConfig, String> {
    let mut config = SandboxConfig::default().port(8780).webview_port(8781);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" | "--webview-port" => {
                let value = args.next().ok_or(format!("{arg} needs a number"))?;
                let port = value.parse().map_err(|_| format!("{arg}: {value:?} is not a port number"))?;
                config = if arg == "--port" { config.port(port) } else { config.webview_port(port) };
            }
            "--mini-app" => config = config.mini_app_url(args.next().ok_or("--mini-app needs a URL")?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let config = match parse_args() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let sandbox = match config.start().await {
        Ok(sandbox) => sandbox,
        Err(error) => {
            eprintln!("pocket-sandbox could not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("pocket-sandbox is running at {} (ready in {} ms)", sandbox.base_url(), started.elapsed().as_millis());
    println!();
    println!("{}", sandbox.summary());
    println!();
    println!("Press Ctrl-C to stop.");
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C ({error}); stopping");
    }
    println!("stopping pocket-sandbox");
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}
