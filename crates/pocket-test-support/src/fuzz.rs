//! Inputs for the decoders' property tests: JSON shaped like what Pocket or a user might send —
//! the expected keys with values of every type and size, extra keys, nesting — and raw bytes.
//!
//! Each property runs [`cases`] times: 2,000 by default (what CI runs), more with
//! `POCKET_FUZZ_CASES=100000 cargo test …` for a long local run.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

/// The proptest configuration of every decoder property: `POCKET_FUZZ_CASES` cases (default
/// 2,000), and no persistence file in the source tree.
pub fn cases() -> Config {
    let cases = std::env::var("POCKET_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// A scalar as a hostile or merely odd server might send it.
pub fn odd_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Decimals of up to 15 digits: serde_json (without `float_roundtrip`) reads those exactly,
        // so a value that does not survive a round trip is our decoders' doing, not the parser's.
        (any::<i32>(), 0..6u32).prop_map(|(m, e)| Value::from(f64::from(m) / 10f64.powi(e as i32))),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(9_223_372_036_854_775_807_u64)),
        ".{0,40}".prop_map(Value::String),
        "[0-9]{1,30}".prop_map(Value::String),
        "-?[0-9]{1,20}\\.[0-9]{0,20}".prop_map(Value::String),
        "(?i)(paid|pending|cancelled|failed|processed|rejected|processing|10|20|30|40|50|60|70)"
            .prop_map(Value::String),
        "[A-Za-z0-9_-]{0,20}\\.[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,20}".prop_map(Value::String),
        Just(Value::String("\u{0}\u{feff}\u{202e}".to_owned())),
    ]
}

/// A JSON value: an object whose keys are mostly `keys` (spelled as given), with any values,
/// sometimes nested; or a bare scalar or array.
pub fn json_like(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let value = odd_scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<String, Value>>())),
        ]
    });
    let key = prop_oneof![4 => prop::sample::select(keys).prop_map(str::to_owned), 1 => ".{0,12}"];
    prop_oneof![
        6 => prop::collection::vec((key, value.clone()), 0..10)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<String, Value>>())),
        1 => value,
    ]
}

/// Bytes: arbitrary ones, or `json` serialised and then cut short or with a byte changed.
pub fn bytes_like(json: impl Strategy<Value = Value>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (json, any::<prop::sample::Index>(), any::<u8>(), any::<bool>()).prop_map(|(value, at, byte, cut)| {
            let mut bytes = serde_json::to_vec(&value).unwrap_or_default();
            if !bytes.is_empty() {
                let index = at.index(bytes.len());
                if cut { bytes.truncate(index) } else { bytes[index] = byte }
            }
            bytes
        }),
    ]
}

/// A valid `base` object with some of its fields replaced, removed (`null`) or added from
/// `keys`: inputs that get past the first checks, to reach the logic behind them.
pub fn laid_over(base: Value, keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    json_like(keys).prop_map(move |changes| {
        let mut value = base.clone();
        if let (Some(fields), Value::Object(changes)) = (value.as_object_mut(), changes) {
            fields.extend(changes);
        }
        value
    })
}
