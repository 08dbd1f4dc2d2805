//! How a Java `Long` path variable reads a text: Spring's `NumberUtils.parseNumber`, which
//! drops every character `Character.isWhitespace` calls whitespace, reads `0x`, `0X` or `#`
//! (after an optional `-`) as hexadecimal through `Long.decode`, and everything else through
//! `Long.valueOf`, whose digits are every Unicode decimal digit of the Basic Multilingual Plane
//! (`Character.digit` reads UTF-16 units, so digits beyond it are no digits).
//!
//! Pocket's merchant services are Spring: an id is one invoice exactly when this reads one
//! number from it, and that number is the invoice.

/// The first code point of each run of ten Unicode decimal digits (`Nd`) in the Basic
/// Multilingual Plane, as of Unicode 15 (no `Nd` run was added to the plane since).
const DIGIT_ZEROS: [u32; 37] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6,
    0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40,
    0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
];

/// `Character.isWhitespace`: Unicode's space, line and paragraph separators except the
/// no-break ones (U+00A0, U+2007, U+202F), and the controls U+0009–U+000D and U+001C–U+001F.
pub(crate) fn is_java_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'..='\u{000D}'
            | '\u{001C}'..='\u{001F}'
            | ' '
            | '\u{1680}'
            | '\u{2000}'..='\u{2006}'
            | '\u{2008}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// `Character.digit(c, radix)` for radix 10 or 16: a decimal digit of any script, or (for 16)
/// a Latin letter `a`–`f` in either case, ASCII or fullwidth.
fn java_digit(c: char, radix: u32) -> Option<u32> {
    let code = u32::from(c);
    let decimal = DIGIT_ZEROS.iter().find(|&&zero| (zero..zero + 10).contains(&code)).map(|zero| code - zero);
    if decimal.is_some() || radix == 10 {
        return decimal;
    }
    let letter = match c {
        'a'..='f' => code - u32::from('a'),
        'A'..='F' => code - u32::from('A'),
        '\u{FF41}'..='\u{FF46}' => code - 0xFF41,
        '\u{FF21}'..='\u{FF26}' => code - 0xFF21,
        _ => return None,
    };
    Some(letter + 10)
}

/// The `Long` Spring reads from `text`, or `None` where it answers 400.
pub(crate) fn parse(text: &str) -> Option<i64> {
    let compact: String = text.chars().filter(|c| !is_java_whitespace(*c)).collect();
    let (negative, unsigned) = match compact.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    let hex =
        unsigned.strip_prefix("0x").or_else(|| unsigned.strip_prefix("0X")).or_else(|| unsigned.strip_prefix('#'));
    match hex {
        // Long.decode: a sign after the prefix is "in the wrong position".
        Some(digits) => magnitude_to_long(negative, digits, 16),
        // Long.valueOf: one leading sign of either kind.
        None if !negative => match compact.strip_prefix('+') {
            Some(digits) => magnitude_to_long(false, digits, 10),
            None => magnitude_to_long(false, &compact, 10),
        },
        None => magnitude_to_long(true, unsigned, 10),
    }
}

fn magnitude_to_long(negative: bool, digits: &str, radix: u32) -> Option<i64> {
    if digits.is_empty() {
        return None;
    }
    // Wide enough that i64::MIN's magnitude fits before the sign is applied.
    let mut magnitude: i128 = 0;
    for c in digits.chars() {
        let digit = java_digit(c, radix)?;
        magnitude = magnitude * i128::from(radix) + i128::from(digit);
        if magnitude > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_digit_run_is_ten_decimal_digits() {
        for zero in DIGIT_ZEROS {
            for offset in 0..10 {
                let c = char::from_u32(zero + offset).expect("a BMP code point");
                assert!(c.is_numeric(), "U+{:04X}", zero + offset);
                assert_eq!(java_digit(c, 10), Some(offset));
            }
        }
        assert!(DIGIT_ZEROS.windows(2).all(|pair| pair[0] + 10 <= pair[1]), "sorted and apart");
    }

    #[test]
    fn other_numerals_are_no_digits() {
        for not_a_digit in ['²', '½', 'Ⅻ', '①', '〇', '\u{1D7CE}', 'g', 'G', 'ｇ'] {
            assert_eq!(java_digit(not_a_digit, 16), None, "{not_a_digit}");
        }
    }
}
