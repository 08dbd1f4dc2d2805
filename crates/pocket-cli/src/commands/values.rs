//! The values given on the command line, read into the SDK's types with errors that name the
//! argument.

use std::io::Read;
use std::time::Duration;

use pocket_core::{Amount, InvoiceId, InvoiceNote};

use crate::failure::Failure;

/// An invoice id argument.
pub fn invoice_id(text: &str) -> Result<InvoiceId, Failure> {
    InvoiceId::new(text).map_err(|e| Failure::usage(format!("invoice id {text:?}: {e}")))
}

/// An `--amount`.
pub fn amount(text: &str) -> Result<Amount, Failure> {
    text.parse::<Amount>().map_err(|e| Failure::usage(format!("--amount {text:?}: {e}")))
}

/// A `--note`.
pub fn note(text: &str) -> Result<InvoiceNote, Failure> {
    InvoiceNote::new(text).map_err(|e| Failure::usage(format!("--note: {e}")))
}

/// A secret given as an argument, or `-` for the first line of standard input (which keeps
/// it out of shell history and `ps`).
pub fn secret_argument(value: &str, what: &str) -> Result<String, Failure> {
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

/// Seconds given on the command line as a duration.
pub fn seconds(value: f64, flag: &str) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| *d <= Duration::from_secs(7 * 24 * 3600))
        .ok_or_else(|| Failure::usage(format!("{flag}: {value} is not a number of seconds between 0 and a week")))
}
