//! The merchant QR invoice (v1, no wallet user) end to end through the sandbox: created with
//! `{amount, info}`, its QR text scanned and paid in the wallet, its notice sent as for any v1
//! invoice, its state read through the v1 check; a creation that may have reached Pocket is
//! never sent again.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_core::{Amount, ErrorKind, InvoiceState, MerchantApi, NewMerchantInvoice};
use pocket_sandbox::{Endpoint, Fault};

fn qr_invoice(tugrik: u64) -> NewMerchantInvoice {
    NewMerchantInvoice::new(Amount::from_tugrik(tugrik).unwrap(), "Кофе".parse().unwrap()).unwrap()
}

#[tokio::test]
async fn a_qr_invoice_is_created_without_a_wallet_user_scanned_paid_and_checked() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let created = client.create_merchant_invoice(&qr_invoice(4_500)).await.unwrap();
    let qr = created.qr.clone().expect("a QR text");
    assert_eq!(client.check_invoice(&created.id).await.unwrap().state, InvoiceState::Pending);

    // The wallet's scanner reads the code and leads to the invoice's pay screen.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let code: String = url::form_urlencoded::byte_serialize(qr.as_bytes()).collect();
    let scanned = http.get(format!("{}/wallet/scan?code={code}", sandbox.base_url())).send().await.unwrap();
    assert_eq!(scanned.headers()["location"], format!("/wallet/pay/{}", created.id).as_str());
    let paid = http
        .post(format!("{}/wallet/pay/{}", sandbox.base_url(), created.id))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("action=pay")
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);

    let status = client.check_invoice(&created.id).await.unwrap();
    assert_eq!((status.state, status.amount), (InvoiceState::Paid, Some(Amount::from_tugrik(4_500).unwrap())));
    let held = sandbox.invoice(&created.id).unwrap();
    assert_eq!(held.payer_phone.as_deref(), Some("99112233"), "whoever scanned it paid it");

    let trait_object: &dyn MerchantApi = &client;
    let second = trait_object.create_merchant_invoice(&qr_invoice(500)).await.unwrap();
    assert_ne!(second.id, created.id);
}

#[tokio::test]
async fn a_qr_invoice_below_the_minimum_or_refused_is_an_error_that_says_so() {
    let error = NewMerchantInvoice::new(Amount::from_tugrik(499).unwrap(), "Кофе".parse().unwrap()).unwrap_err();
    assert!(error.to_string().contains("500"), "{error}");

    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::CreateQrInvoice, Fault::fail_next(1, 400));
    let refused = client.create_merchant_invoice(&qr_invoice(560)).await.unwrap_err();
    assert_eq!((refused.kind(), refused.status()), (ErrorKind::Rejected, Some(400)));
}

#[tokio::test]
async fn a_lost_answer_is_ambiguous_and_the_creation_is_never_sent_again() {
    let sandbox = sandbox().await;
    let client = builder(&sandbox).timeout(Duration::from_millis(200)).build().unwrap();
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::CreateQrInvoice, Fault::latency(Duration::from_millis(400)));
    let error = client.create_merchant_invoice(&qr_invoice(2_500)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Ambiguous, "{error}");
    let asked = error.unconfirmed_invoice().expect("what was asked");
    assert_eq!((asked.amount, asked.info.as_str(), &asked.order), (Amount::from_tugrik(2_500).unwrap(), "Кофе", &None));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sandbox.requests(Endpoint::CreateQrInvoice), 1, "never re-sent");
    assert_eq!(sandbox.invoices().len(), 1, "Pocket did create it — which is why the error is ambiguous");

    sandbox.clear_faults();
    sandbox.set_fault(Endpoint::CreateQrInvoice, Fault::drop_next(1));
    let dropped = client.create_merchant_invoice(&qr_invoice(560)).await.unwrap_err();
    assert_eq!(dropped.kind(), ErrorKind::Ambiguous);
    assert_eq!(sandbox.requests(Endpoint::CreateQrInvoice), 2);
}
