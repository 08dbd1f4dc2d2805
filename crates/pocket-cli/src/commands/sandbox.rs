//! `pocket sandbox`: the local Pocket, as `cargo run -p pocket-sandbox` runs it.

use pocket_sandbox::SandboxConfig;
use serde_json::json;

use crate::cli::SandboxArgs;
use crate::failure::Failure;
use crate::output::{Output, emit};

pub async fn run(args: SandboxArgs, out: Output) -> Result<(), Failure> {
    // The sandbox logs each webhook delivery and fault; RUST_LOG chooses how much.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let mut config = SandboxConfig::default().port(args.port).webview_port(args.webview_port);
    if let Some(url) = args.mini_app {
        config = config.mini_app_url(url);
    }
    let started = std::time::Instant::now();
    let sandbox = config.start().await.map_err(|e| Failure::pocket(format!("the sandbox could not start: {e}")))?;
    let base = sandbox.base_url().to_owned();
    if out.is_json() {
        // One line, so that a script can read it as soon as the sandbox is ready.
        let client = &sandbox.clients()[0];
        emit(
            &json!({
                "sso": base,
                "api": format!("{base}/merchant"),
                "realm": sandbox.realm_url(),
                "clientId": client.client_id,
                "clientSecret": client.client_secret,
                "wallet": sandbox.wallet_url(),
                "webview": sandbox.webview_url(),
            })
            .to_string(),
        );
    } else {
        emit(&format!("pocket sandbox is running at {base} (ready in {} ms)\n", started.elapsed().as_millis()));
        emit(&sandbox.summary());
        let place = if base == crate::place::SANDBOX_BASE {
            String::new()
        } else {
            format!(" --sso {base} --api {base}/merchant")
        };
        emit(&format!("\n  try           pocket --env sandbox{place} whoami"));
        emit("\nPress Ctrl-C to stop.");
    }
    let stopped = tokio::signal::ctrl_c().await;
    out.say("stopping the sandbox");
    sandbox.shutdown().await;
    stopped.map_err(|e| Failure::pocket(format!("cannot wait for Ctrl-C ({e}); stopped")))
}
