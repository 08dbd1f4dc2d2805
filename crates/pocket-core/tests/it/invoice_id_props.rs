//! `InvoiceId::as_number` reads every text exactly as Pocket's Spring services read a `Long`
//! path variable: pocket-test-support's `spring_long`, a reference written from the Java
//! sources with Unicode's general category as the authority on digits — not from the SDK's
//! table.

use pocket_core::InvoiceId;
use pocket_test_support::spring_long;
use proptest::prelude::*;

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
