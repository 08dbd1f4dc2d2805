//! `InvoiceId::as_number` reads every text exactly as Pocket's Spring services read a `Long`
//! path variable. The reference below is written from the Java sources' structure
//! (`StringUtils.trimAllWhitespace`, `NumberUtils.isHexNumber`, `Long.decode`, `Long.valueOf`,
//! `Character.digit`) with Unicode's general category (the `unicode-properties` crate) as the
//! authority on digits — not from the SDK's table.

use pocket_core::InvoiceId;
use proptest::prelude::*;
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
fn spring_long(text: &str) -> Option<i64> {
    let trimmed: String = text.chars().filter(|c| !java_is_whitespace(*c)).collect();
    let index = usize::from(trimmed.starts_with('-'));
    let hex = ["0x", "0X", "#"].iter().any(|prefix| trimmed[index..].starts_with(prefix));
    if hex { decode(&trimmed) } else { parse_long(&trimmed, 10) }
}

/// Characters that matter to the reading, with everything else mixed in.
fn id_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec!['0', '1', '2', '4', '9', 'a', 'f', 'F', 'g', 'x', 'X', '#', '+', '-', '.', 'e']),
        2 => prop::sample::select(vec![
            ' ', '\u{A0}', '\u{2007}', '\u{202F}', '\u{2000}', '\u{2008}', '\u{3000}', '\u{1680}', '\u{2028}',
            '\u{205F}', '\u{85}', '\u{FEFF}', '\u{200B}',
        ]),
        3 => prop::sample::select(vec![
            '٤', '٢', '۴', '४', '৪', '๔', '᠔', '᠒', '４', '２', '０', 'ｘ', 'Ａ', 'ｆ', 'ｇ', '²', '½', '①', '〇', 'Ⅳ',
            '\u{1D7D2}', '\u{104A4}', '\u{1E950}',
        ]),
        1 => any::<char>(),
    ]
}

fn spelling() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(id_char(), 1..24).prop_map(|chars| chars.into_iter().collect()),
        // Numbers near the edges of a Long, in every form.
        (any::<i64>(), 0..6u8).prop_map(|(n, form)| match form {
            0 => n.to_string(),
            1 => format!("+{n}"),
            2 if n < 0 => format!("-0x{:x}", n.unsigned_abs()),
            2 => format!("0x{n:X}"),
            3 => format!("#{:x}", n.unsigned_abs()),
            4 => format!("{}9", n),
            _ => format!(" 0{} ", n.unsigned_abs()),
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn as_number_reads_ids_as_spring_does(text in spelling()) {
        if let Ok(id) = InvoiceId::new(text.clone()) {
            prop_assert_eq!(id.as_number(), spring_long(&text), "{:?}", text);
        }
    }
}

#[test]
fn every_basic_plane_digit_is_read_as_java_reads_it() {
    for code in 0..=0xFFFFu32 {
        let Some(c) = char::from_u32(code) else { continue };
        let Ok(id) = InvoiceId::new(format!("4{c}")) else { continue };
        assert_eq!(id.as_number(), spring_long(&format!("4{c}")), "U+{code:04X}");
        let Ok(hex) = InvoiceId::new(format!("0x{c}")) else { continue };
        assert_eq!(hex.as_number(), spring_long(&format!("0x{c}")), "0x U+{code:04X}");
    }
}

#[test]
fn the_spellings_the_issue_names() {
    let read = |text: &str| InvoiceId::new(text).unwrap().as_number();
    for spelling in ["4242", "٤٢٤٢", "４２４２", "᠔᠒᠔᠒", "0x1092", "#1092", " 4242\u{2003}"] {
        assert_eq!(read(spelling), Some(4242), "{spelling:?}");
    }
    for forged in ["4242\u{A0}", "4242\u{202F}", "4242\u{2007}", "+0x1092", "\u{FEFF}4242"] {
        assert_eq!(read(forged), None, "{forged:?}");
    }
}
