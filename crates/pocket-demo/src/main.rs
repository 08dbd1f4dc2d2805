//! The example shop. Not built yet (issue 7): it needs pocket-jwt and pocket-axum first.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "pocket-demo is not built yet: it needs pocket-jwt and pocket-axum, which are still placeholders. \
         Run `cargo run -p pocket-sandbox` for a local Pocket meanwhile."
    );
    ExitCode::FAILURE
}
