//! The invoice's `info` text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The note shown to the payer with an invoice (the `info` field): 1 to 100 characters.
///
/// Characters are counted the way Pocket's server and the wallet count them — as UTF-16 code
/// units, like Java and JavaScript. For Cyrillic and Latin text that is exactly the number of
/// letters (`"Нэхэмжлэх"` is 9, although it takes 18 bytes); an emoji counts as two, so a note
/// accepted here is never too long for the server.
///
/// The text is kept exactly as given: it is **not trimmed**, because silently changing what a
/// merchant wrote would be lost data. A note that is empty or only whitespace is refused, and so
/// is any control character (newline, tab, escape…); ordinary spaces are fine.
///
/// ```
/// use pocket_core::InvoiceNote;
///
/// let note: InvoiceNote = "Нэхэмжлэх #42".parse()?;
/// assert_eq!(note.as_str(), "Нэхэмжлэх #42");
/// assert!("line one\nline two".parse::<InvoiceNote>().is_err());
/// # Ok::<(), pocket_core::NoteError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct InvoiceNote(String);

/// Why a text is not an [`InvoiceNote`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The text was empty or only whitespace.
    #[error("the note is empty; Pocket requires 1 to {max} characters", max = InvoiceNote::MAX_CHARS)]
    Empty,
    /// The text was longer than [`InvoiceNote::MAX_CHARS`].
    #[error("the note is {chars} characters long; Pocket accepts at most {max}")]
    TooLong {
        /// The length, counted as Pocket counts it.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// The text contained a control character.
    #[error(
        "the note contains the control character U+{code:04X} at character {position}; only printable text and spaces are allowed"
    )]
    ControlCharacter {
        /// The zero-based character index.
        position: usize,
        /// The character's code point.
        code: u32,
    },
}

impl InvoiceNote {
    /// The longest note Pocket accepts, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Validates `text` as a note.
    pub fn new(text: impl Into<String>) -> Result<InvoiceNote, NoteError> {
        let text = text.into();
        if let Some((position, c)) = text.chars().enumerate().find(|(_, c)| c.is_control()) {
            return Err(NoteError::ControlCharacter { position, code: u32::from(c) });
        }
        if text.trim().is_empty() {
            return Err(NoteError::Empty);
        }
        let chars = text.encode_utf16().count();
        if chars > Self::MAX_CHARS {
            return Err(NoteError::TooLong { chars, max: Self::MAX_CHARS });
        }
        Ok(InvoiceNote(text))
    }

    /// The note's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for InvoiceNote {
    type Err = NoteError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        InvoiceNote::new(text)
    }
}

impl TryFrom<String> for InvoiceNote {
    type Error = NoteError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        InvoiceNote::new(text)
    }
}

impl TryFrom<&str> for InvoiceNote {
    type Error = NoteError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        InvoiceNote::new(text)
    }
}

impl AsRef<str> for InvoiceNote {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvoiceNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for InvoiceNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Serialize for InvoiceNote {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for InvoiceNote {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        InvoiceNote::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cyrillic_as_characters_not_bytes() {
        let hundred = "ж".repeat(100);
        assert_eq!(hundred.len(), 200, "Cyrillic takes two bytes a letter");
        assert!(InvoiceNote::new(hundred).is_ok());
        assert_eq!(InvoiceNote::new("ж".repeat(101)), Err(NoteError::TooLong { chars: 101, max: 100 }));
    }

    #[test]
    fn counts_emoji_as_the_server_does() {
        assert!(InvoiceNote::new("🎁".repeat(50)).is_ok());
        assert_eq!(InvoiceNote::new("🎁".repeat(51)), Err(NoteError::TooLong { chars: 102, max: 100 }));
    }

    #[test]
    fn rejects_empty_and_blank_notes() {
        assert_eq!(InvoiceNote::new(""), Err(NoteError::Empty));
        assert_eq!(InvoiceNote::new("   "), Err(NoteError::Empty));
        assert_eq!(InvoiceNote::new("\u{3000}"), Err(NoteError::Empty));
    }

    #[test]
    fn rejects_control_characters_with_their_position() {
        assert_eq!(InvoiceNote::new("Хоол\nУндаа"), Err(NoteError::ControlCharacter { position: 4, code: 0x0A }));
        assert!(matches!(InvoiceNote::new("a\tb"), Err(NoteError::ControlCharacter { code: 9, .. })));
        assert!(matches!(InvoiceNote::new("\u{1b}[31m"), Err(NoteError::ControlCharacter { .. })));
        assert!(matches!(InvoiceNote::new("x\u{0}"), Err(NoteError::ControlCharacter { .. })));
        assert!(matches!(InvoiceNote::new("x\u{85}"), Err(NoteError::ControlCharacter { .. })));
    }

    #[test]
    fn keeps_spaces_exactly_as_written() {
        let note = InvoiceNote::new("  Захиалга 7 ").unwrap();
        assert_eq!(note.as_str(), "  Захиалга 7 ");
        assert_eq!(serde_json::to_string(&note).unwrap(), "\"  Захиалга 7 \"");
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        let message = InvoiceNote::new("ж".repeat(120)).unwrap_err().to_string();
        assert_eq!(message, "the note is 120 characters long; Pocket accepts at most 100");
        let message = InvoiceNote::new("a\u{7}").unwrap_err().to_string();
        assert!(message.contains("U+0007 at character 1"), "{message}");
    }
}
