//! The example shop. Not built yet (issue 7): it needs the sandbox, pocket-http, pocket-jwt and
//! pocket-axum first.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "pocket-demo is not built yet: it needs pocket-sandbox, pocket-http, pocket-jwt and pocket-axum, \
         which are still placeholders. See README.md for what works today."
    );
    ExitCode::FAILURE
}
