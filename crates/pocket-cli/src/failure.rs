//! What a failed command says, and its exit code.

use std::fmt;
use std::process::ExitCode;

use pocket_core::{Error, ErrorKind};

/// Why a command failed: a message for people (never a secret) and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: Exit,
}

/// The exit codes `pocket` uses (documented in `--help` and docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Pocket failed, could not be reached, or said no (a rejected token, an unpaid invoice).
    Pocket = 1,
    /// The input or the configuration is wrong: an argument, a missing or refused credential.
    Usage = 2,
    /// Ctrl-C.
    Interrupted = 130,
}

impl Failure {
    /// Bad input or configuration.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), code: Exit::Usage }
    }

    /// Pocket failed or said no.
    pub fn pocket(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), code: Exit::Pocket }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code as u8)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An SDK error as the command line tells it: what went wrong, and what to do where there is
/// something to do. pocket-core's messages never carry secrets.
impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        match error.kind() {
            ErrorKind::Validation => Failure::usage(error.to_string()),
            ErrorKind::Unauthorized => Failure::usage(format!(
                "{error}\nCheck POCKET_CLIENT_ID and POCKET_CLIENT_SECRET, and that they belong to this environment."
            )),
            ErrorKind::Ambiguous => {
                let mut message = error.to_string();
                if let Some(unconfirmed) = error.unconfirmed_invoice() {
                    message.push_str(&format!("\nunconfirmed invoice: {}", unconfirmed.amount));
                    if let Some((terminal, order)) = &unconfirmed.order {
                        message.push_str(&format!(", order {} on terminal {terminal}", order.as_str()));
                    }
                }
                Failure::pocket(message)
            }
            ErrorKind::Unavailable | ErrorKind::Timeout => {
                Failure::pocket(format!("{error}\nPocket could not be reached or is unavailable; try again later."))
            }
            _ => Failure::pocket(error.to_string()),
        }
    }
}

/// A value the SDK refused; its message names the field already ("amount: …").
impl From<pocket_core::ValidationError> for Failure {
    fn from(error: pocket_core::ValidationError) -> Failure {
        Failure::usage(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_value_names_its_field_once() {
        let amount = pocket_core::Amount::from_tugrik(100).expect("an amount");
        let note = pocket_core::InvoiceNote::new("x").expect("a note");
        let refused =
            pocket_core::NewMerchantInvoice::new(amount, note).expect_err("100 ₮ is below the smallest invoice");
        let said = Failure::from(refused).to_string();
        assert!(said.starts_with("amount: ") && !said.contains("amount: amount"), "{said}");
        assert!(said.contains("500"), "it says the smallest amount: {said}");
    }
}
