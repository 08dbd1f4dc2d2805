//! How the sandbox writes what Pocket is seen to write in more than one form: the case of an
//! invoice's state.

use pocket_core::InvoiceState;

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

#[cfg(test)]
mod tests {
    use super::*;

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
