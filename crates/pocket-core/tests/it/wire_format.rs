//! Serde against JSON taken from the reference: the documented create request, the observed
//! responses, and webhook bodies in every form Pocket may send them.

use pocket_core::{
    Amount, ConsumerToken, Invoice, InvoiceId, InvoiceNote, InvoiceState, InvoiceStatus, NewInvoice, PaymentConfig,
    WebhookNotice,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses a fixture, writes it back, and parses that again: nothing may change on the way.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(name: &str) -> T {
    let parsed: T = serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let written = serde_json::to_string(&parsed).unwrap();
    let reparsed: T = serde_json::from_str(&written).unwrap();
    assert_eq!(parsed, reparsed, "{name} changed on a round trip through {written}");
    parsed
}

fn amount(tugrik: u64) -> Option<Amount> {
    Some(Amount::from_tugrik(tugrik).unwrap())
}

#[test]
fn new_invoice_serializes_to_exactly_the_documented_body() {
    let documented: Value = serde_json::from_str(&fixture("create_request.json")).unwrap();
    let token = ConsumerToken::new(documented["consumerToken"].as_str().unwrap()).unwrap();
    let invoice =
        NewInvoice::new(Amount::from_tugrik(560).unwrap(), InvoiceNote::new("Нэхэмжлэх").unwrap(), token).unwrap();
    let written = serde_json::to_string(&invoice).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), documented);
    assert!(written.starts_with(r#"{"amount":560,"info":"Нэхэмжлэх","consumerToken":"eyJ"#), "{written}");
}

#[test]
fn new_invoice_with_mongo_keeps_them_exactly() {
    let token = ConsumerToken::new("a.b.c").unwrap();
    let invoice = NewInvoice::new("560.05".parse().unwrap(), InvoiceNote::new("x").unwrap(), token).unwrap();
    let written = serde_json::to_value(&invoice).unwrap();
    assert_eq!(written, json!({"amount": 560.05, "info": "x", "consumerToken": "a.b.c"}));
}

#[test]
fn new_invoice_debug_hides_the_consumer_token() {
    let token = ConsumerToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl").unwrap();
    let invoice = NewInvoice::new(Amount::MIN_INVOICE, InvoiceNote::new("Tea").unwrap(), token).unwrap();
    let shown = format!("{invoice:?}");
    assert!(!shown.contains("eyJ") && !shown.contains("c2lnbmF0dXJl"), "{shown}");
    assert!(shown.contains("Amount(500)") && shown.contains("\"Tea\""), "{shown}");
}

#[test]
fn create_response_with_numbers() {
    let invoice: Invoice = round_trip("create_response.json");
    assert_eq!(invoice.id, InvoiceId::from(1024));
    assert_eq!(invoice.info.as_deref(), Some("Нэхэмжлэх"));
    assert_eq!(invoice.amount, amount(560));
    assert_eq!(invoice.terminal_id.as_deref(), Some("77"));
    assert!(invoice.extra.is_empty());
}

#[test]
fn create_response_with_strings_and_extra_fields() {
    let invoice: Invoice = round_trip("create_response_strings.json");
    assert_eq!(invoice.id.as_str(), "1024");
    assert_eq!(invoice.amount, amount(560));
    assert_eq!(invoice.terminal_id.as_deref(), Some("T-77"));
    assert_eq!(invoice.extra["createdAt"], "2026-11-26T10:00:00Z");
    assert_eq!(invoice.extra["status"], "pending");
}

#[test]
fn create_response_without_an_id_is_an_error_naming_the_field() {
    let error = serde_json::from_str::<Invoice>(r#"{"info": "x", "amount": 560}"#).unwrap_err();
    assert!(error.to_string().contains("missing field `id`"), "{error}");
    let error = serde_json::from_str::<Invoice>(r#"{"id": 1, "amount": "abc"}"#).unwrap_err();
    assert!(error.to_string().contains("not a decimal number"), "{error}");
}

#[test]
fn check_response_in_the_sibling_api_shape() {
    let status: InvoiceStatus = round_trip("check_response.json");
    assert_eq!(status.id, Some(InvoiceId::from(1024)));
    assert_eq!(status.state, InvoiceState::Paid);
    assert!(status.state.is_paid());
    assert_eq!(status.amount, amount(560));
    assert_eq!(status.terminal_id.as_deref(), Some("77"));
    assert_eq!(status.order_number.as_deref(), Some("ORD-1"));
    assert_eq!(status.created_at.as_deref(), Some("2026-11-26T10:00:00.000+08:00"));
    assert_eq!(status.extra["paidAt"], "2026-11-26T10:01:00.000+08:00");
}

#[test]
fn sparse_check_response_reads_the_state_alias() {
    let status: InvoiceStatus = serde_json::from_str(&fixture("check_response_sparse.json")).unwrap();
    assert_eq!(status.state, InvoiceState::Processing);
    assert_eq!(status.id, None);
    assert_eq!(status.amount, None);
}

#[test]
fn check_response_without_a_state_is_unknown_not_paid() {
    let status: InvoiceStatus = serde_json::from_str(r#"{"id": 3}"#).unwrap();
    assert_eq!(status.state, InvoiceState::Unknown(String::new()));
    assert!(!status.state.is_paid() && !status.state.is_final());
}

#[test]
fn webhook_with_numbers() {
    let notice: WebhookNotice = round_trip("webhook_numbers.json");
    assert_eq!(notice.id.as_deref(), Some("5501"));
    assert_eq!(notice.amount, amount(560));
    assert_eq!(notice.invoice_id.as_str(), "1024");
    assert_eq!(notice.invoice_state, Some(InvoiceState::Paid));
    assert_eq!(notice.phone_number.as_deref(), Some("99112233"));
}

#[test]
fn webhook_with_strings_reads_the_same_as_with_numbers() {
    let from_strings: WebhookNotice = round_trip("webhook_strings.json");
    let from_numbers: WebhookNotice = serde_json::from_str(&fixture("webhook_numbers.json")).unwrap();
    assert_eq!(from_strings, from_numbers);
}

#[test]
fn webhook_with_extra_fields_keeps_them() {
    let notice: WebhookNotice = round_trip("webhook_extra_fields.json");
    assert_eq!(notice.amount, Some(Amount::from_mongo(56_050)));
    assert_eq!(notice.held_id.as_deref(), Some("77"));
    assert_eq!(notice.order_number.as_deref(), Some("ORD-1"));
    assert_eq!(notice.extra["channel"], "wallet");
    assert_eq!(notice.extra["meta"], json!({"retry": 2}));
    assert_eq!(notice.extra.len(), 2);
}

#[test]
fn webhook_with_only_the_invoice_id() {
    let notice: WebhookNotice = round_trip("webhook_minimal.json");
    assert_eq!(notice, WebhookNotice::new(InvoiceId::new("1024").unwrap()));
}

#[test]
fn webhook_with_an_unknown_state_and_a_null_field() {
    let notice: WebhookNotice = serde_json::from_str(&fixture("webhook_unknown_state.json")).unwrap();
    assert_eq!(notice.invoice_state, Some(InvoiceState::Unknown("SETTLED_PARTIALLY".into())));
    assert_eq!(notice.phone_number, None);
}

#[test]
fn webhook_bodies_that_cannot_be_trusted_to_name_an_invoice_are_errors() {
    for body in [
        r#"{}"#,
        r#"{"invoiceId": ""}"#,
        r#"{"invoiceId": null}"#,
        r#"{"invoiceId": true}"#,
        r#"{"invoiceId": ".."}"#,
        r#"{"invoiceId": 4.5}"#,
        r#"{"invoiceId": {"id": 1}}"#,
        r#"{"invoiceId": 1, "invoice_id": 2}"#,
        r#"{"amount": 560}"#,
        r#"[1, 2]"#,
    ] {
        assert!(serde_json::from_str::<WebhookNotice>(body).is_err(), "{body} must be refused");
    }
}

#[test]
fn a_notice_that_names_an_invoice_is_read_whatever_its_other_fields_hold() {
    for (body, unreadable) in [
        (r#"{"invoiceId": 1, "amount": -5}"#, "amount"),
        (r#"{"invoiceId": 1, "amount": ""}"#, "amount"),
        (r#"{"invoiceId": 1, "amount": "560,00"}"#, "amount"),
        (r#"{"invoiceId": 1, "amount": "5.6E+2"}"#, "amount"),
        (r#"{"invoiceId": 1, "amount": " 560"}"#, "amount"),
        (r#"{"invoiceId": 1, "phoneNumber": {"n": "99"}}"#, "phoneNumber"),
        (r#"{"invoiceId": 1, "invoiceState": {"s": "PAID"}}"#, "invoiceState"),
        (r#"{"invoiceId": 1, "info": 4.5}"#, "info"),
        (r#"{"invoiceId": 1, "id": [1]}"#, "id"),
    ] {
        let notice: WebhookNotice = serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(notice.invoice_id.as_str(), "1", "{body}");
        assert_eq!(notice.unreadable, [unreadable], "{body}");
        assert!(notice.extra.contains_key(unreadable), "the odd value is kept: {body}");
        assert_eq!((notice.amount, notice.invoice_state.clone(), notice.phone_number.clone()), (None, None, None));
    }
    let spelled: WebhookNotice =
        serde_json::from_str(r#"{"invoice_id": "7", "Amount": 560, "INVOICESTATE": "paid", "info": 12}"#).unwrap();
    assert_eq!(spelled.invoice_id.as_str(), "7");
    assert_eq!(spelled.amount, Some(Amount::from_tugrik(560).unwrap()));
    assert_eq!(spelled.invoice_state, Some(InvoiceState::Paid));
    assert_eq!(spelled.info.as_deref(), Some("12"), "a number info is text");
    let twice: WebhookNotice = serde_json::from_str(r#"{"invoiceId": 7, "amount": 560, "AMOUNT": 9000}"#).unwrap();
    assert_eq!(twice.amount, None, "an amount given twice is believed in neither spelling");
    assert_eq!(twice.unreadable, ["AMOUNT", "amount"]);
}

#[test]
fn payment_config_keeps_the_address_and_unknown_fields() {
    let config: PaymentConfig = round_trip("payment_config.json");
    assert_eq!(config.fall_back_url.as_deref(), Some("https://shop.example.mn/pocket/webhook"));
    assert_eq!(config.extra["merchantId"], 12);
    let empty: PaymentConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(empty.fall_back_url, None);
    let set = serde_json::to_value(PaymentConfig::with_fall_back_url("https://shop.mn/hook")).unwrap();
    assert_eq!(set, json!({"fallBackUrl": "https://shop.mn/hook"}));
}

#[test]
fn personal_data_stays_out_of_debug_output() {
    let notice: WebhookNotice =
        serde_json::from_str(r#"{"invoiceId": 7, "phoneNumber": "88776655", "payerName": "Дорж"}"#).unwrap();
    let shown = format!("{notice:?}");
    assert!(!shown.contains("88776655") && !shown.contains("Дорж"), "{shown}");
    assert!(shown.contains("[PERSONAL]") && shown.contains("payerName"), "{shown}");

    let claims = serde_json::json!({
        "sub": "u-1", "exp": 1_900_000_000, "preferred_username": "99112233", "given_name": "Бат",
        "family_name": "Дорж", "name": "Бат Дорж", "phone_number": "99112233", "email": "bat@example.mn",
        "birthdate": "1990-01-01"
    });
    let token = pocket_core::ConsumerToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln").unwrap();
    let user = pocket_core::PocketUser::from_claims(token, claims.as_object().unwrap().clone()).unwrap();
    let shown = format!("{user:?}");
    for secret in ["99112233", "Бат", "Дорж", "bat@example.mn", "1990-01-01", "c2ln"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("u-1") && shown.contains("birthdate"), "{shown}");
}
