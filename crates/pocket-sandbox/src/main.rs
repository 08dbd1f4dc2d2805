//! `cargo run -p pocket-sandbox`: a local Pocket on 127.0.0.1 until Ctrl-C. `--help` says how.
//! Log detail follows `RUST_LOG` (default `info`).

use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use pocket_sandbox::{FieldStyle, SandboxConfig, StateCase, WebhookBehaviour};

/// A local Pocket for developing and testing a merchant backend: no credentials, no internet.
#[derive(Parser)]
#[command(
    name = "pocket-sandbox",
    version,
    long_about = "A local Pocket for developing and testing a merchant backend, on 127.0.0.1: no credentials, \
                  no internet.\n\n\
                  It serves Pocket's SSO (a Keycloak realm `invescore`: merchant tokens, introspection, JWKS, \
                  discovery), the merchant API under /merchant (mini-app, merchant QR and gateway invoices, the \
                  webhook address), a wallet simulator at /wallet (consent, pay sheet, QR scanner) and, on a \
                  second port, your mini-app inside the wallet's web view. Paying an invoice posts its notice to \
                  your webhook.\n\n\
                  The test merchant is client id `sandbox-merchant`, client secret `sandbox-secret` (printed at \
                  start with every address). The control API under /_sandbox pays or rejects invoices \
                  (POST /_sandbox/invoices/{id}/pay), lists webhook deliveries (GET /_sandbox/deliveries), sets \
                  webhook behaviour (PUT /_sandbox/webhook-behaviour), faults (PUT /_sandbox/faults/{endpoint}), \
                  rotates keys and sends forged notices. The OpenAPI document is at /openapi.json.",
    after_help = "Example:\n  pocket-sandbox --mini-app http://127.0.0.1:3000 --webhook-style varied\n  \
                  then point your backend at sso=http://127.0.0.1:8780 api=http://127.0.0.1:8780/merchant \
                  and open http://127.0.0.1:8781/"
)]
struct Options {
    /// The port of Pocket's SSO, merchant API, wallet and control API (0 picks a free one).
    #[arg(long, default_value_t = 8780, value_name = "N")]
    port: u16,
    /// The port of the wallet's web view, where the mini-app is shown (0 picks a free one).
    #[arg(long, default_value_t = 8781, value_name = "N")]
    webview_port: u16,
    /// Your mini-app, shown in the wallet's web view with the wallet bridge.
    #[arg(long, value_name = "URL")]
    mini_app: Option<String>,
    /// How webhook notices write their fields; `varied` changes the form for every delivery, so
    /// a webhook that reads only one form fails here rather than in production.
    #[arg(long, value_enum, default_value_t = Style::Numbers)]
    webhook_style: Style,
    /// The case of invoice states in answers and notices.
    #[arg(long, value_enum, default_value_t = Case::Lower)]
    state_case: Case,
    /// The seed of everything random (faults, varied notices, shuffled deliveries).
    #[arg(long, default_value_t = 0x5eed, value_name = "N")]
    seed: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum Style {
    /// `{"invoiceId": 10001, "amount": 560, …}`
    Numbers,
    /// `{"invoiceId": "10001", "amount": "560.00", …}`
    Strings,
    /// Numbers, with integer state codes: `{"invoiceState": 20, …}`
    Codes,
    /// Numbers, strings or codes, anew for every delivery (from the seed)
    Varied,
}

#[derive(Clone, Copy, ValueEnum)]
enum Case {
    /// `paid`, `pending`
    Lower,
    /// `PAID`, `PENDING`
    Upper,
}

impl Options {
    fn config(&self) -> SandboxConfig {
        let config = SandboxConfig::default().port(self.port).webview_port(self.webview_port).seed(self.seed);
        match &self.mini_app {
            Some(url) => config.mini_app_url(url.clone()),
            None => config,
        }
    }

    fn webhook_behaviour(&self) -> WebhookBehaviour {
        let style = match self.webhook_style {
            Style::Numbers => FieldStyle::Numbers,
            Style::Strings => FieldStyle::Strings,
            Style::Codes => FieldStyle::Codes,
            Style::Varied => FieldStyle::Varied,
        };
        let case = match self.state_case {
            Case::Lower => StateCase::Lower,
            Case::Upper => StateCase::Upper,
        };
        WebhookBehaviour::field_style(style).with_state_case(case)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // clap prints help and exits 0, or prints the mistake and exits 2.
    let options = Options::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let started = std::time::Instant::now();
    let sandbox = match options.config().start().await {
        Ok(sandbox) => sandbox,
        Err(error) => {
            eprintln!("pocket-sandbox could not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    sandbox.set_webhook_behaviour(options.webhook_behaviour());
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
