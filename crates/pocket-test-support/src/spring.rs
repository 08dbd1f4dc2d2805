//! How Pocket's merchant services (Spring) read an invoice id from a URL path: a reference
//! written from the Java sources' structure (`StringUtils.trimAllWhitespace`,
//! `NumberUtils.isHexNumber`, `Long.decode`, `Long.valueOf`, `Character.digit`) with Unicode's
//! general category (the `unicode-properties` crate) as the authority on digits — never from
//! the SDK's own code, so that tests of the SDK can hold it to Pocket's reading.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// `Character.isWhitespace(char)`, from its Javadoc.
fn java_is_whitespace(c: char) -> bool {
    let separator = matches!(
        c.general_category(),
        GeneralCategory::SpaceSeparator | GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
    );
    (separator && !matches!(c, '\u{00A0}' | '\u{2007}' | '\u{202F}'))
        || ('\u{0009}'..='\u{000D}').contains(&c)
        || ('\u{001C}'..='\u{001F}').contains(&c)
}

/// `Character.digit(char, radix)`: a UTF-16 unit, so only the Basic Multilingual Plane.
fn java_digit(c: char, radix: u32) -> Option<u32> {
    if u32::from(c) > 0xFFFF {
        return None;
    }
    let value = if c.general_category() == GeneralCategory::DecimalNumber {
        // Unicode lays every decimal digit in a run 0..=9: count back to the run's zero.
        let mut value = 0;
        let mut code = u32::from(c);
        while code > 0
            && char::from_u32(code - 1)
                .is_some_and(|before| before.general_category() == GeneralCategory::DecimalNumber)
            && value < 9
        {
            code -= 1;
            value += 1;
        }
        value
    } else {
        match c {
            'a'..='z' => u32::from(c) - u32::from('a') + 10,
            'A'..='Z' => u32::from(c) - u32::from('A') + 10,
            '\u{FF41}'..='\u{FF5A}' => u32::from(c) - 0xFF41 + 10,
            '\u{FF21}'..='\u{FF3A}' => u32::from(c) - 0xFF21 + 10,
            _ => return None,
        }
    };
    (value < radix).then_some(value)
}

/// `Long.parseLong(s, radix)`: one leading sign of either kind, then digits, within a Long.
fn parse_long(s: &str, radix: u32) -> Option<i64> {
    let (negative, digits) = match s.chars().next()? {
        '-' => (true, &s[1..]),
        '+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.chars() {
        let digit = i64::from(java_digit(c, radix)?);
        // Accumulate negatively, as Java does, so that Long.MIN_VALUE fits.
        value = value.checked_mul(i64::from(radix))?.checked_sub(digit)?;
    }
    if negative { Some(value) } else { value.checked_neg() }
}

/// `Long.decode(nm)`, only ever reached with a hexadecimal prefix after an optional `-`.
fn decode(nm: &str) -> Option<i64> {
    let (negative, rest) = match nm.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, nm.strip_prefix('+').unwrap_or(nm)),
    };
    let rest = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")).or_else(|| rest.strip_prefix('#'))?;
    if rest.starts_with('-') || rest.starts_with('+') {
        return None;
    }
    let constant = if negative { format!("-{rest}") } else { rest.to_owned() };
    parse_long(&constant, 16)
}

/// `NumberUtils.parseNumber(text, Long.class)`.
pub fn spring_long(text: &str) -> Option<i64> {
    let trimmed: String = text.chars().filter(|c| !java_is_whitespace(*c)).collect();
    let index = usize::from(trimmed.starts_with('-'));
    let hex = ["0x", "0X", "#"].iter().any(|prefix| trimmed[index..].starts_with(prefix));
    if hex { decode(&trimmed) } else { parse_long(&trimmed, 10) }
}
