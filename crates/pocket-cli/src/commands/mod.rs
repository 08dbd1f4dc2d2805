//! One module per command group; this one dispatches and holds what several share.

mod control;
mod gateway;
mod invoice;
mod payments;
mod sandbox;
mod token;
mod trigger;
mod values;
mod webhook;
mod whoami;

use std::io::{BufRead, IsTerminal, Write};
use std::time::SystemTime;

use clap::CommandFactory;

use crate::cli::{Cli, Command, TokenCommand};
use crate::failure::Failure;
use crate::output::Output;
use crate::place::Place;

/// Runs the command the user asked for.
pub async fn run(cli: Cli, out: Output) -> Result<(), Failure> {
    // Read only by the commands that talk to a Pocket.
    let place = || Place::resolve(&cli.place);
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "pocket", &mut std::io::stdout());
            Ok(())
        }
        // The sandbox is a place of its own: it needs no other.
        Command::Sandbox(args) => sandbox::run(args, out).await,
        // Decoding trusts nothing and asks no one.
        Command::Token(TokenCommand::Decode { token }) => token::decode(&token, out),
        Command::Token(TokenCommand::Verify { token, azp, aud }) => {
            token::verify(&token, azp, aud, &place()?, out).await
        }
        Command::Whoami => whoami::run(&place()?, out).await,
        Command::Webhook(command) => webhook::run(command, &place()?, out).await,
        Command::Invoice(command) => invoice::run(command, &place()?, out).await,
        Command::Gateway(command) => gateway::run(command, &place()?, out).await,
        Command::Trigger(args) => trigger::run(args, &place()?, out).await,
        // The shared store is all it reads: no Pocket, no credentials.
        Command::Payments(args) => payments::run(args, out).await,
    }
}

/// Asks before a change to production; `--yes` answers for the user.
fn confirm_production(place: &Place, yes: bool, question: &str) -> Result<(), Failure> {
    if yes || place.environment != pocket_core::Environment::Production {
        return Ok(());
    }
    ask(&format!("{question} in PRODUCTION"), format!("{question} — this is production: add --yes to confirm"))
}

/// Asks `question` on the terminal; without a terminal to ask on, the change is refused with
/// `refusal`.
fn ask(question: &str, refusal: String) -> Result<(), Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(refusal));
    }
    eprint!("{question}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| Failure::usage(e.to_string()))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::usage("not confirmed; nothing was changed"))
    }
}

/// A moment as people read it (`Sat, 28 Nov 2026 05:00:00 GMT`) and as scripts do (Unix seconds).
fn moment(at: SystemTime) -> (String, u64) {
    // HTTP dates end with the year 9999; a token may claim any time.
    const LAST_HTTP_DATE: u64 = 253_402_300_799;
    let unix = at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let text = if unix > LAST_HTTP_DATE { format!("{unix} s after 1970") } else { httpdate::fmt_http_date(at) };
    (text, unix)
}
