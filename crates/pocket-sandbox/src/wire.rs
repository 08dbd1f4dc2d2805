//! How the sandbox writes what Pocket writes: ids as numbers, timestamps, and the case of an
//! invoice's state (seen in more than one form).

use std::time::SystemTime;

use pocket_core::{InvoiceId, InvoiceState};
use serde_json::Value;

/// How invoice states are written in check and detail answers and in notices' text states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StateCase {
    /// `paid`, `pending`, `unsuccess` (the default): two independent integrations compare the
    /// check's `state` with lower-case `paid`, exactly, and see payments — so Pocket writes them so.
    #[default]
    Lower,
    /// `PAID`, `PENDING`, `UNSUCCESS`: the case other Pocket services write; code that reads
    /// states must not depend on either.
    Upper,
}

/// `state` as Pocket writes it: a failed payment is `unsuccess`, as third-party integrations
/// read it.
pub(crate) fn state_text(state: &InvoiceState, case: StateCase) -> String {
    let text = match state {
        InvoiceState::Failed => "unsuccess",
        other => other.as_str(),
    };
    match case {
        StateCase::Lower => text.to_ascii_lowercase(),
        StateCase::Upper => text.to_ascii_uppercase(),
    }
}

/// Ids are numbers on the wire, as Pocket sends them.
pub(crate) fn numeric_id(id: &InvoiceId) -> Value {
    id.as_str().parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(id.to_string()))
}

/// `2026-11-26T10:00:00.000Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_689_296_789);
        assert_eq!(rfc3339(t), "2026-11-26T10:34:56.789Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn states_are_written_in_the_chosen_case_and_read_back_as_themselves() {
        for state in [InvoiceState::Pending, InvoiceState::Paid, InvoiceState::Rejected, InvoiceState::Failed] {
            for case in [StateCase::Lower, StateCase::Upper] {
                let text = state_text(&state, case);
                assert_eq!(InvoiceState::parse(&text), state, "{text}");
                let expected =
                    if case == StateCase::Lower { text.to_ascii_lowercase() } else { text.to_ascii_uppercase() };
                assert_eq!(text, expected);
            }
        }
        assert_eq!(state_text(&InvoiceState::Failed, StateCase::Lower), "unsuccess");
    }
}
