//! Property tests of every decoder that reads what Pocket sends: the create and check answers,
//! the payment configuration and the webhook notice. Whatever arrives — odd types, huge numbers,
//! cut-off or corrupted JSON — each decoder answers with a value or a typed error, never a panic,
//! in bounded time; what it accepts survives a round trip unchanged.
//!
//! 2,000 cases per property; `POCKET_FUZZ_CASES=N` for more.

use std::time::{Duration, Instant};

use pocket_core::{
    Branch, GatewayInvoice, Invoice, InvoiceDetail, InvoiceState, InvoiceStatus, Page, PaymentConfig, Terminal,
    WebhookNotice,
};
use pocket_test_support::fuzz::{bytes_like, cases, json_like, laid_over};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const INVOICE_KEYS: &[&str] = &["id", "info", "amount", "terminalId", "state", "invoiceState", "createdAt"];
const STATUS_KEYS: &[&str] =
    &["id", "invoiceId", "state", "invoiceState", "amount", "paidAmount", "info", "phoneNumber", "orderNumber"];
const CONFIG_KEYS: &[&str] = &["fallBackUrl", "fallbackUrl", "terminalId", "merchantId"];
const GATEWAY_KEYS: &[&str] = &["id", "qr", "orderNumber", "deeplink", "deepLink"];
const DETAIL_KEYS: &[&str] = &[
    "id",
    "state",
    "invoiceState",
    "amount",
    "holdId",
    "heldId",
    "terminalId",
    "branchId",
    "orderNumber",
    "invoiceType",
    "senderName",
];
const PAGE_KEYS: &[&str] = &["content", "totalElements", "totalPages", "number", "size", "last", "id", "name"];
const NOTICE_KEYS: &[&str] =
    &["id", "amount", "info", "invoiceId", "invoiceState", "phoneNumber", "heldId", "orderNumber"];

/// Decodes `bytes` as `T`; fails the property on a slow decode; and when it succeeds, checks
/// that what was read is written and read back to the same value.
fn decodes_sanely<T>(bytes: &[u8]) -> Result<Option<T>, TestCaseError>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let started = Instant::now();
    let decoded = serde_json::from_slice::<T>(bytes);
    prop_assert!(
        started.elapsed() < Duration::from_secs(1),
        "decoding {} bytes took {:?}",
        bytes.len(),
        started.elapsed()
    );
    let Ok(value) = decoded else { return Ok(None) };
    let written = serde_json::to_vec(&value).expect("a decoded value can be written");
    let again: T = serde_json::from_slice(&written)
        .map_err(|e| TestCaseError::fail(format!("{value:?} was written as something it cannot read: {e}")))?;
    prop_assert_eq!(&again, &value);
    Ok(Some(value))
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn create_answers(json in prop_oneof![
        json_like(INVOICE_KEYS),
        laid_over(json!({"id": 42, "info": "Нэхэмжлэх", "amount": 1000, "terminalId": 7}), INVOICE_KEYS),
    ]) {
        decodes_sanely::<Invoice>(&serde_json::to_vec(&json).unwrap())?;
    }

    #[test]
    fn create_answer_bytes(bytes in bytes_like(json_like(INVOICE_KEYS))) {
        decodes_sanely::<Invoice>(&bytes)?;
    }

    #[test]
    fn check_answers(json in prop_oneof![
        json_like(STATUS_KEYS),
        laid_over(json!({"id": 42, "state": "paid", "amount": 1000}), STATUS_KEYS),
    ]) {
        let status = decodes_sanely::<InvoiceStatus>(&serde_json::to_vec(&json).unwrap())?;
        // An answer with no state at all is never read as paid.
        if let (Some(status), Value::Object(fields)) = (status, &json)
            && !fields.contains_key("state")
            && !fields.contains_key("invoiceState")
        {
            prop_assert_ne!(status.state, InvoiceState::Paid);
        }
    }

    #[test]
    fn check_answer_bytes(bytes in bytes_like(json_like(STATUS_KEYS))) {
        decodes_sanely::<InvoiceStatus>(&bytes)?;
    }

    #[test]
    fn payment_configurations(bytes in bytes_like(json_like(CONFIG_KEYS))) {
        decodes_sanely::<PaymentConfig>(&bytes)?;
    }

    #[test]
    fn webhook_notices(json in prop_oneof![
        json_like(NOTICE_KEYS),
        laid_over(json!({"id": "1", "amount": 1000, "info": "x", "invoiceId": 42, "invoiceState": "PAID"}), NOTICE_KEYS),
    ]) {
        decodes_sanely::<WebhookNotice>(&serde_json::to_vec(&json).unwrap())?;
    }

    #[test]
    fn webhook_notice_bytes(bytes in bytes_like(json_like(NOTICE_KEYS))) {
        decodes_sanely::<WebhookNotice>(&bytes)?;
    }

    #[test]
    fn generate_answers(json in prop_oneof![
        json_like(GATEWAY_KEYS),
        laid_over(json!({"id": 77, "qr": "0002010102", "orderNumber": "O-1", "deeplink": "pocket://pay"}), GATEWAY_KEYS),
    ]) {
        decodes_sanely::<GatewayInvoice>(&serde_json::to_vec(&json).unwrap())?;
    }

    #[test]
    fn detail_answers(json in prop_oneof![
        json_like(DETAIL_KEYS),
        laid_over(json!({"id": 77, "state": "PAID", "amount": 1000, "terminalId": 74686381183671_i64,
                         "orderNumber": "O-1", "holdId": 5}), DETAIL_KEYS),
    ]) {
        let detail = decodes_sanely::<InvoiceDetail>(&serde_json::to_vec(&json).unwrap())?;
        if let (Some(detail), Value::Object(fields)) = (detail, &json)
            && !fields.contains_key("state")
            && !fields.contains_key("invoiceState")
        {
            prop_assert_ne!(detail.state, InvoiceState::Paid);
        }
    }

    #[test]
    fn listing_pages(json in prop_oneof![
        json_like(PAGE_KEYS),
        laid_over(json!({"content": [{"id": 3, "name": "Төв"}], "totalPages": 2, "number": 0, "last": false}), PAGE_KEYS),
    ]) {
        let bytes = serde_json::to_vec(&json).unwrap();
        decodes_sanely::<Page<Branch>>(&bytes)?;
        decodes_sanely::<Page<Terminal>>(&bytes)?;
    }

    #[test]
    fn states_of_any_shape(json in pocket_test_support::fuzz::odd_scalar()) {
        let started = Instant::now();
        let _ = serde_json::from_value::<InvoiceState>(json);
        prop_assert!(started.elapsed() < Duration::from_secs(1));
    }
}

/// A whole number beyond 64 bits is read as the nearest float and written back as that float:
/// reading it again gives the same value (serde_json's `float_roundtrip`; without it this read
/// landed one bit off, and the written value read back differently).
#[test]
fn a_number_beyond_64_bits_in_an_extra_field_survives_a_round_trip() {
    let config = decodes_sanely::<PaymentConfig>(br#"{"k": -9223372036859775808, "fallBackUrl": null}"#);
    assert!(config.is_ok_and(|config| config.is_some()));
}
