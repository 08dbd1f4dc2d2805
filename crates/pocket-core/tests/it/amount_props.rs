//! Property tests: every amount survives printing and parsing, as text and as JSON.

use pocket_core::Amount;
use proptest::prelude::*;

fn any_amount() -> impl Strategy<Value = Amount> {
    (0..=Amount::MAX.as_mongo()).prop_map(Amount::from_mongo)
}

proptest! {
    #[test]
    fn decimal_text_round_trips(amount in any_amount()) {
        prop_assert_eq!(amount.to_decimal_string().parse::<Amount>(), Ok(amount));
    }

    #[test]
    fn json_round_trips_exactly(amount in any_amount()) {
        let json = serde_json::to_string(&amount).unwrap();
        prop_assert_eq!(serde_json::from_str::<Amount>(&json).unwrap(), amount);
    }

    #[test]
    fn json_numbers_written_by_hand_parse_exactly(whole in 0u64..10_000_000_000_000, cents in 0u64..100) {
        let text = format!("{whole}.{cents:02}");
        let parsed: Amount = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(parsed.as_mongo(), whole * 100 + cents);
        let quoted: Amount = serde_json::from_str(&format!("\"{text}\"")).unwrap();
        prop_assert_eq!(quoted, parsed);
    }

    #[test]
    fn serialized_json_is_a_number_not_a_string(amount in any_amount()) {
        let value = serde_json::to_value(amount).unwrap();
        prop_assert!(value.is_number(), "{} is not a number", value);
    }

    #[test]
    fn a_third_decimal_is_always_refused(whole in 0u64..1_000_000, cents in 0u64..100, third in 1u64..10) {
        let text = format!("{whole}.{cents:02}{third}");
        prop_assert!(text.parse::<Amount>().is_err());
        prop_assert!(serde_json::from_str::<Amount>(&text).is_err());
    }

    #[test]
    fn display_shows_whole_tugrik_and_the_sign(whole in 0u64..1_000_000_000) {
        let amount = Amount::from_tugrik(whole).unwrap();
        prop_assert_eq!(amount.to_string(), format!("{whole} ₮"));
    }

    #[test]
    fn order_follows_value(a in any_amount(), b in any_amount()) {
        prop_assert_eq!(a.cmp(&b), a.as_mongo().cmp(&b.as_mongo()));
    }
}
