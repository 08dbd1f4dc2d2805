//! `cargo run -p pocket-demo`: the demo shop, inside the sandbox wallet, until Ctrl-C.

use std::process::ExitCode;

use pocket_demo::{Demo, DemoSettings, Pocket};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,pocket_sandbox=warn,pocket_demo=info".into()),
        )
        .with_target(false)
        .init();
    let settings = match DemoSettings::from_env() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("pocket-demo: {message}");
            return ExitCode::from(2);
        }
    };
    let against = match &settings.pocket {
        Pocket::Sandbox { .. } => "the local sandbox (no credentials, no internet)".to_owned(),
        Pocket::Real { environment, .. } => format!("Pocket {} — real money rules apply", environment.name()),
    };
    let demo = match Demo::start(settings).await {
        Ok(demo) => demo,
        Err(message) => {
            eprintln!("pocket-demo could not start: {message}");
            return ExitCode::FAILURE;
        }
    };
    println!();
    println!("  Pocket café is running against {against}.");
    match demo.sandbox() {
        Some(_) => println!("  ➜ Open {} in your browser: the sandbox wallet, with the shop inside.", demo.open_url()),
        None => println!("  ➜ Open {} inside the Pocket app (it needs the wallet's bridge).", demo.open_url()),
    }
    println!("  Ctrl-C stops it.");
    println!();
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C ({error}); stopping");
    }
    println!("stopping pocket-demo");
    demo.shutdown().await;
    ExitCode::SUCCESS
}
