//! `pocket`: the Pocket wallet's merchant API from a terminal — who you are, the webhook
//! address, invoices, the payment gateway, wallet tokens, the local sandbox and test notices.
//!
//! `pocket --help` lists the commands; docs/cli.md in the repository shows each with an example.
// The argument structs' doc comments are `--help` text, where a URL is shown as written.
#![allow(rustdoc::bare_urls)]

mod cli;
mod commands;
mod failure;
mod output;
mod place;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::output::Output;

fn main() -> ExitCode {
    // clap prints help, versions and argument errors itself (exit 0 or 2).
    let cli = Cli::parse();
    let out = Output::new(cli.json, cli.color);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("pocket: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli, out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{} {failure}", out.paint_err("error:"));
            failure.exit_code()
        }
    }
}
