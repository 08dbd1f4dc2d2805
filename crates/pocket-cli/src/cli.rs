//! The command line: every command, option and help text (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  pocket sandbox                                   a local Pocket on 127.0.0.1:8780
  pocket --env sandbox whoami                      the sandbox's merchant, token and webhook
  pocket --env sandbox trigger paid --to http://127.0.0.1:3000/pocket/webhook
  POCKET_ENV=staging POCKET_CLIENT_ID=my-shop pocket webhook get
  pocket --env staging invoice watch 10001
  pocket --env staging gateway generate --terminal 7001 --amount 1500 --order A-17 --qr
  pocket --env staging token verify - < token.txt

Where: --env staging|production|sandbox, or --sso URL --api URL (what `pocket sandbox` prints).
Credentials: POCKET_CLIENT_ID and POCKET_CLIENT_SECRET from the environment or ./.env; the secret
is never taken from a flag (shell history) and is asked for when missing on a terminal.
Exit codes: 0 done, 1 Pocket failed or said no, 2 bad input or configuration, 130 interrupted.";

/// `pocket`: the Pocket wallet's merchant API from a terminal.
#[derive(Debug, Parser)]
#[command(name = "pocket", version, about, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub place: PlaceArgs,

    /// Print JSON for scripts instead of tables for people.
    #[arg(long, global = true, help_heading = "Output")]
    pub json: bool,

    /// Colours: `auto` uses them on a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// Which Pocket, and as which merchant.
#[derive(Debug, Args)]
#[command(next_help_heading = "Which Pocket, as whom")]
pub struct PlaceArgs {
    /// `staging`, `production`, or `sandbox` (a local sandbox at 127.0.0.1:8780).
    #[arg(long = "env", global = true, env = "POCKET_ENV", value_name = "NAME")]
    pub env: Option<String>,

    /// A custom Pocket's SSO: its base URL (the realm is added) or its full realm URL.
    #[arg(long, global = true, env = "POCKET_SSO_URL", value_name = "URL")]
    pub sso: Option<String>,

    /// A custom Pocket's merchant API, such as http://127.0.0.1:8780/merchant.
    #[arg(long, global = true, env = "POCKET_API_URL", value_name = "URL")]
    pub api: Option<String>,

    /// The realm under --sso (default `invescore`).
    #[arg(long, global = true, env = "POCKET_REALM", value_name = "NAME")]
    pub realm: Option<String>,

    /// The merchant's client id (default: POCKET_CLIENT_ID).
    #[arg(long, global = true, value_name = "ID")]
    pub client_id: Option<String>,

    /// Where to read POCKET_* settings that the environment lacks.
    #[arg(long, global = true, value_name = "FILE", default_value = ".env")]
    pub env_file: PathBuf,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always, even into a pipe.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Get a merchant token and show who you are: client, environment, token expiry, webhook.
    Whoami,
    /// Read or change the address Pocket posts payment notices to.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Mini-app invoices: check, watch until paid, create.
    #[command(subcommand)]
    Invoice(InvoiceCommand),
    /// The payment gateway (QR and deep-link invoices for web shops and tills).
    #[command(subcommand)]
    Gateway(GatewayCommand),
    /// A wallet user's ID token: verify it against the realm, or decode it without trusting it.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Run the local sandbox (a faithful Pocket on 127.0.0.1) until Ctrl-C.
    Sandbox(SandboxArgs),
    /// Make the sandbox post a payment notice to your webhook (no money, no phone).
    Trigger(TriggerArgs),
    /// For operators: what the shared payment store and watch journal (Redis or PostgreSQL)
    /// hold — watched invoices, one payment, what the reconciler gave up on. Read-only, but
    /// for `rewatch`.
    Payments(PaymentsArgs),
    /// Print a shell completion script: `pocket completions bash > /etc/bash_completion.d/pocket`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Show the webhook address Pocket has.
    Get,
    /// Set the webhook address (https; http only for a custom Pocket).
    Set(WebhookUrlArgs),
    /// Set the webhook address only if Pocket has another one.
    Ensure(WebhookUrlArgs),
}

#[derive(Debug, Args)]
pub struct WebhookUrlArgs {
    /// The address, such as https://shop.example.mn/pocket/webhook.
    pub url: String,
    /// Do not ask before changing production.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum InvoiceCommand {
    /// Ask Pocket for an invoice's state.
    Check {
        /// The invoice id.
        id: String,
    },
    /// Ask Pocket until the invoice is paid or otherwise final (Ctrl-C stops).
    Watch {
        /// The invoice id.
        id: String,
        /// Seconds between questions.
        #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
        every: f64,
        /// Give up after this many seconds (default: never).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
    },
    /// Create an invoice for a wallet user.
    Create(CreateInvoiceArgs),
}

#[derive(Debug, Args)]
pub struct CreateInvoiceArgs {
    /// The amount in tögrög, such as 1500 or 1500.50 (at least 500).
    #[arg(long)]
    pub amount: String,
    /// What the wallet user sees.
    #[arg(long, default_value = "pocket-cli")]
    pub note: String,
    /// The wallet user's ID token, or `-` to read it from standard input. Against the sandbox
    /// it may be left out: the sandbox mints one for its test user.
    #[arg(long, env = "POCKET_CONSUMER_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub consumer_token: Option<String>,
    /// Create a merchant QR invoice instead: for no wallet user (no consumer token), paid by
    /// whoever scans its code; its QR code is printed. Observed in public code, not in Pocket's
    /// documents.
    #[arg(long, conflicts_with = "consumer_token")]
    pub qr: bool,
    /// Do not ask before creating an invoice in production.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// List the merchant's branches.
    Branches,
    /// List a branch's terminals.
    Terminals {
        /// The branch id.
        branch: String,
    },
    /// Generate a QR / deep-link invoice for an order on a terminal.
    Generate {
        /// The terminal id.
        #[arg(long)]
        terminal: String,
        /// The amount in tögrög (at least 500).
        #[arg(long)]
        amount: String,
        /// The order number (1–24 characters), unique per terminal.
        #[arg(long)]
        order: String,
        /// What the payer sees.
        #[arg(long, default_value = "pocket-cli")]
        note: String,
        /// Also print the QR code in the terminal.
        #[arg(long)]
        qr: bool,
    },
    /// Show the invoice of an order.
    Detail(OrderArgs),
    /// Ask whether an order is paid.
    IsPaid(OrderArgs),
}

#[derive(Debug, Args)]
pub struct OrderArgs {
    /// The terminal id.
    #[arg(long)]
    pub terminal: String,
    /// The order number.
    #[arg(long)]
    pub order: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Verify a wallet user's ID token against the realm's keys and show the user, or why not.
    Verify {
        /// The token, or `-` to read it from standard input (keeps it out of shell history).
        token: String,
        /// Also require this authorized party (`azp`).
        #[arg(long, value_name = "CLIENT_ID")]
        azp: Option<String>,
        /// Also require this audience (`aud`).
        #[arg(long, value_name = "AUDIENCE")]
        aud: Option<String>,
    },
    /// Show a token's header and claims WITHOUT checking anything.
    Decode {
        /// The token, or `-` to read it from standard input.
        token: String,
    },
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// The sandbox's port (0 picks a free one).
    #[arg(long, default_value_t = 8780)]
    pub port: u16,
    /// Where the wallet's web view shows the mini-app.
    #[arg(long, default_value_t = 8781)]
    pub webview_port: u16,
    /// The mini-app the wallet opens.
    #[arg(long, value_name = "URL")]
    pub mini_app: Option<String>,
}

#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// Which notice.
    #[arg(value_enum)]
    pub kind: TriggerKind,
    /// Your webhook address; the sandbox's merchant is set to post there.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Use this sandbox invoice instead of creating one (it must be pending; for
    /// `forged --forgery wrong-amount`, paid).
    #[arg(long, value_name = "ID")]
    pub invoice: Option<String>,
    /// The amount of the invoice created for the notice.
    #[arg(long, default_value = "1000")]
    pub amount: String,
    /// How the notice writes its fields: varied (a different form for each copy and retry, so
    /// a webhook that reads only one form fails here, not in production), numbers, strings, or
    /// numbers with integer state codes.
    #[arg(long, value_enum, default_value_t = NoticeStyle::Varied)]
    pub style: NoticeStyle,
    /// For `duplicate`: how many extra copies.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub copies: u32,
    /// For `forged`: what the forgery claims.
    #[arg(long, value_enum, default_value_t = ForgeryKind::UnknownInvoice)]
    pub forgery: ForgeryKind,
    /// Seconds to wait for your endpoint's answers.
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
    pub wait: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TriggerKind {
    /// A real payment: the sandbox pays an invoice and posts its notice.
    Paid,
    /// A notice no payment sent (your webhook must ship nothing).
    Forged,
    /// A real payment whose notice arrives more than once (ship once).
    Duplicate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoticeStyle {
    /// Numbers, strings or codes, chosen anew for every delivery (seeded, reproducible).
    Varied,
    /// `{"invoiceId": 10001, "amount": 1000, "invoiceState": "paid"}`
    Numbers,
    /// `{"invoiceId": "10001", "amount": "1000.00", …}`
    Strings,
    /// `{"invoiceState": 20, …}`
    Codes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ForgeryKind {
    /// "Paid" for an invoice Pocket never issued.
    UnknownInvoice,
    /// "Paid" for a pending invoice (one is created unless --invoice names it).
    UnpaidInvoice,
    /// "Paid", claiming ten times the amount of a paid invoice (needs --invoice).
    WrongAmount,
}

impl NoticeStyle {
    /// The sandbox's name for the style.
    pub fn sandbox_name(self) -> &'static str {
        match self {
            NoticeStyle::Varied => "varied",
            NoticeStyle::Numbers => "numbers",
            NoticeStyle::Strings => "strings",
            NoticeStyle::Codes => "codes",
        }
    }
}

impl ForgeryKind {
    /// The sandbox's name for the forgery.
    pub fn sandbox_name(self) -> &'static str {
        match self {
            ForgeryKind::UnknownInvoice => "unknown-invoice",
            ForgeryKind::UnpaidInvoice => "unpaid-invoice",
            ForgeryKind::WrongAmount => "wrong-amount",
        }
    }
}

/// `pocket payments`: the shared store and journal, read for operators.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  pocket payments --redis redis://:pw@redis:6379/2 watched
  POCKET_DATABASE_URL=postgres://shop@db/shop pocket payments show 10001
  pocket payments --redis redis://redis unresolved --json
  pocket payments --redis redis://redis rewatch 10001 --for 3600 --yes

The password in a URL is never printed.")]
pub struct PaymentsArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: PaymentsCommand,
}

/// Which shared store: the one the app's replicas use.
#[derive(Debug, Args)]
#[command(next_help_heading = "Which store")]
pub struct StoreArgs {
    /// The Redis the app's `RedisStore` uses (redis:// or rediss://).
    #[arg(long, env = "POCKET_REDIS_URL", hide_env_values = true, value_name = "URL")]
    pub redis: Option<String>,
    /// The RedisStore's key prefix, if the app set one.
    #[arg(long, value_name = "PREFIX", default_value = "pocket:payments:", requires = "redis")]
    pub prefix: String,
    /// The PostgreSQL the app's `PgStore` uses (postgres://).
    #[arg(long, env = "POCKET_DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub postgres: Option<String>,
    /// The PgStore's schema, if the app set one.
    #[arg(long, value_name = "SCHEMA", requires = "postgres")]
    pub schema: Option<String>,
    /// The PgStore's table prefix, if the app set one.
    #[arg(long, value_name = "PREFIX", requires = "postgres")]
    pub table_prefix: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// Every watched invoice, oldest first: its age, the replica polling it, its last state,
    /// its polls and when it is polled next.
    Watched,
    /// One invoice's payment: done (when), claimed (by which replica, until when), or nothing;
    /// and whether it is watched or unresolved.
    Show {
        /// The invoice id (any spelling of its number).
        id: String,
    },
    /// The invoices the reconciler gave up on, oldest first, with why.
    Unresolved,
    /// Watch an invoice again: back in the journal (with the order it was watched with) and
    /// off the unresolved list; the replicas poll it from their next reading of the journal.
    Rewatch {
        /// The invoice id.
        id: String,
        /// How long to watch it, in seconds.
        #[arg(long = "for", default_value_t = 24.0 * 3600.0, value_name = "SECONDS")]
        for_seconds: f64,
        /// Do not ask before changing the journal.
        #[arg(long)]
        yes: bool,
    },
}
