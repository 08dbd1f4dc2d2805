//! One module per command group; this one dispatches and holds what several share.

mod gateway;
mod invoice;
mod payments;
mod sandbox;
mod token;
mod trigger;
mod webhook;
mod whoami;

use std::io::{BufRead, IsTerminal, Read, Write};
use std::time::{Duration, SystemTime};

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

/// A secret given as an argument, or `-` for the first line of standard input (which keeps
/// it out of shell history and `ps`).
fn secret_argument(value: &str, what: &str) -> Result<String, Failure> {
    let text = if value == "-" {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("could not read the {what} from standard input: {e}")))?;
        text
    } else {
        value.to_owned()
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(Failure::usage(format!("the {what} is empty")));
    }
    Ok(text.to_owned())
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

/// Seconds given on the command line as a duration.
fn seconds(value: f64, flag: &str) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| *d <= Duration::from_secs(7 * 24 * 3600))
        .ok_or_else(|| Failure::usage(format!("{flag}: {value} is not a number of seconds between 0 and a week")))
}

/// A moment as people read it (`Sat, 28 Nov 2026 05:00:00 GMT`) and as scripts do (Unix seconds).
fn moment(at: SystemTime) -> (String, u64) {
    // HTTP dates end with the year 9999; a token may claim any time.
    const LAST_HTTP_DATE: u64 = 253_402_300_799;
    let unix = at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let text = if unix > LAST_HTTP_DATE { format!("{unix} s after 1970") } else { httpdate::fmt_http_date(at) };
    (text, unix)
}
