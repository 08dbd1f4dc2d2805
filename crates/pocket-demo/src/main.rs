//! The example shop. Not built yet (issue 7): it needs pocket-axum first.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "pocket-demo is not built yet: it needs pocket-axum, which is still a placeholder. \
         Run `cargo run -p pocket-sandbox` for a local Pocket meanwhile."
    );
    ExitCode::FAILURE
}
