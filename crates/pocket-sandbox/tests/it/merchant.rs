//! The merchant API: invoices and the webhook address, with every error path.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_core::InvoiceId;
use pocket_sandbox::{StateCase, TestUser, WebhookBehaviour};
use serde_json::{Map, Value, json};

#[tokio::test]
async fn creating_an_invoice_returns_the_observed_shape() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let body = json!({"amount": 560, "info": "Нэхэмжлэх", "consumerToken": consumer_token(&sandbox)});
    let answer = create_invoice(&sandbox, &merchant, body).await;
    assert_eq!(answer.status(), 200);
    let created: Value = answer.json().await.unwrap();
    assert!(created["id"].is_u64(), "{created}");
    assert_eq!(created["info"], "Нэхэмжлэх");
    assert_eq!(created["amount"], 560);
    assert_eq!(created["terminalId"], 7001);
    let id = InvoiceId::new(created["id"].to_string()).unwrap();
    let held = sandbox.invoice(&id).unwrap();
    assert_eq!(held.state, pocket_core::InvoiceState::Pending);
    assert_eq!(held.payer, TestUser::default().subject);
    assert_eq!(held.payer_phone.as_deref(), Some("99112233"));
}

#[tokio::test]
async fn invoice_rules_are_enforced_like_pocket() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let consumer = consumer_token(&sandbox);
    let hundred: String = "ж".repeat(100);
    let accepted = [
        json!({"amount": 500, "info": "x", "consumerToken": consumer}),
        json!({"amount": "560.00", "info": hundred, "consumerToken": consumer}),
        json!({"amount": 560.5, "info": "x", "consumerToken": consumer}),
    ];
    for body in accepted {
        let answer = create_invoice(&sandbox, &merchant, body.clone()).await;
        assert_eq!(answer.status(), 200, "{body}");
    }
    let refused = [
        (json!({"amount": 499, "info": "x", "consumerToken": consumer}), "INVALID_AMOUNT"),
        (json!({"amount": -560, "info": "x", "consumerToken": consumer}), "INVALID_AMOUNT"),
        (json!({"amount": "abc", "info": "x", "consumerToken": consumer}), "INVALID_AMOUNT"),
        (json!({"info": "x", "consumerToken": consumer}), "INVALID_AMOUNT"),
        (json!({"amount": 560, "info": format!("{hundred}ж"), "consumerToken": consumer}), "INVALID_INFO"),
        (json!({"amount": 560, "info": "", "consumerToken": consumer}), "INVALID_INFO"),
        (json!({"amount": 560, "info": 5, "consumerToken": consumer}), "INVALID_INFO"),
        (json!({"amount": 560, "consumerToken": consumer}), "INVALID_INFO"),
        (json!({"amount": 560, "info": "x"}), "INVALID_CONSUMER_TOKEN"),
        (json!({"amount": 560, "info": "x", "consumerToken": "a.b.c"}), "INVALID_CONSUMER_TOKEN"),
        (json!({"amount": 560, "info": "x", "consumerToken": merchant}), "INVALID_CONSUMER_TOKEN"),
    ];
    for (body, code) in refused {
        let answer = create_invoice(&sandbox, &merchant, body.clone()).await;
        assert_eq!(answer.status(), 400, "{body}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["code"], code, "{body} → {error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(sandbox.invoices().len(), 3, "refused requests create nothing");
}

#[tokio::test]
async fn an_expired_consumer_token_cannot_be_invoiced() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let tokens = sandbox.mint_consumer_token_with(&TestUser::default(), Duration::from_secs(1), Map::new()).unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let body = json!({"amount": 560, "info": "x", "consumerToken": tokens.access_token.expose_secret()});
    let error: Value = create_invoice(&sandbox, &merchant, body).await.json().await.unwrap();
    assert_eq!(error["code"], "INVALID_CONSUMER_TOKEN");
    assert!(error["message"].as_str().unwrap().contains("expired"), "{error}");
}

#[tokio::test]
async fn the_merchant_api_needs_a_merchant_token() {
    let sandbox = start().await;
    let url = sandbox.environment().payment_config_url();
    let missing = http().get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert!(missing.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let consumer = consumer_token(&sandbox);
    assert_eq!(http().get(&url).bearer_auth(&consumer).send().await.unwrap().status(), 401);
    assert_eq!(http().get(&url).bearer_auth("a.b.c").send().await.unwrap().status(), 401);
    let merchant = merchant_token(&sandbox).await;
    let lower_case_scheme =
        http().get(&url).header("authorization", format!("bearer {merchant}")).send().await.unwrap();
    assert_eq!(lower_case_scheme.status(), 200);
}

#[tokio::test]
async fn malformed_bodies_get_json_errors_never_a_hang() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let url = sandbox.environment().create_invoice_url();
    let send = |content_type: &'static str, body: Vec<u8>| {
        http().post(&url).bearer_auth(&merchant).header("content-type", content_type).body(body).send()
    };
    let cases: [(&str, Vec<u8>, u16); 5] = [
        ("application/json", b"{not json".to_vec(), 400),
        ("application/json", b"[1,2]".to_vec(), 400),
        ("application/json", vec![0xff, 0xfe], 400),
        ("text/plain", b"{}".to_vec(), 415),
        ("application/json", vec![b' '; 70 * 1024], 413),
    ];
    for (content_type, body, status) in cases {
        let answer = send(content_type, body).await.unwrap();
        assert_eq!(answer.status(), status, "{content_type}");
    }
    assert!(sandbox.invoices().is_empty());
}

#[tokio::test]
async fn checking_follows_the_invoice_through_payment() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let id = new_invoice(&sandbox, &merchant).await;
    let check = |id: String| {
        let url = sandbox.environment().check_invoice_url(&InvoiceId::new(id).unwrap());
        http().get(url).bearer_auth(&merchant).send()
    };
    let pending: Value = check(id.clone()).await.unwrap().json().await.unwrap();
    // Lower case, as the public clients that compare `state == "paid"` exactly expect.
    assert_eq!(pending["state"], "pending");
    assert_eq!(pending["amount"], 560);
    assert!(pending.get("paidAt").is_none());
    sandbox.pay(&InvoiceId::new(id.clone()).unwrap()).unwrap();
    let paid: Value = check(id.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(paid["state"], "paid");
    assert_eq!(paid["id"].to_string(), id);
    assert!(paid["paidAt"].is_string());
    let unknown = check("999999".to_owned()).await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.json::<Value>().await.unwrap()["code"], "NOT_FOUND");
    // Ids are read as a Java Long would: what is no number is a bad request, on the check route.
    for not_a_number in ["../consumer", "1/2", "abc"] {
        let answer = check(not_a_number.to_owned()).await.unwrap();
        assert_eq!(answer.status(), 400, "{not_a_number}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "INVALID_REQUEST");
    }
    let other_spelling: Value = check(format!("00{id}")).await.unwrap().json().await.unwrap();
    assert_eq!((other_spelling["state"].as_str(), other_spelling["id"].to_string()), (Some("paid"), id.clone()));

    // The other case Pocket's services write, for code that must read both.
    sandbox.set_webhook_behaviour(WebhookBehaviour::default().with_state_case(StateCase::Upper));
    let upper: Value = check(id.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(upper["state"], "PAID");
}

#[tokio::test]
async fn merchants_see_only_their_own_invoices_and_configuration() {
    let sandbox = fast_config().client("other-shop", "other-secret").start().await.unwrap();
    let mine = merchant_token(&sandbox).await;
    let theirs = token_of(&sandbox, "other-shop", "other-secret").await;
    let id = new_invoice(&sandbox, &mine).await;
    let url = sandbox.environment().check_invoice_url(&InvoiceId::new(id).unwrap());
    assert_eq!(http().get(&url).bearer_auth(&theirs).send().await.unwrap().status(), 404);

    set_webhook(&sandbox, &mine, "https://shop.example.mn/hook").await;
    let config_url = sandbox.environment().payment_config_url();
    let their_config: Value = http().get(&config_url).bearer_auth(&theirs).send().await.unwrap().json().await.unwrap();
    assert_eq!(their_config, json!({"fallBackUrl": null}));
}

#[tokio::test]
async fn the_webhook_address_is_read_and_set() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let url = sandbox.environment().payment_config_url();
    let empty: Value = http().get(&url).bearer_auth(&merchant).send().await.unwrap().json().await.unwrap();
    assert_eq!(empty, json!({"fallBackUrl": null}));
    set_webhook(&sandbox, &merchant, "https://shop.example.mn/pocket/webhook").await;
    let set: Value = http().get(&url).bearer_auth(&merchant).send().await.unwrap().json().await.unwrap();
    assert_eq!(set["fallBackUrl"], "https://shop.example.mn/pocket/webhook");
    for bad in [
        json!({}),
        json!({"fallBackUrl": 5}),
        json!({"fallBackUrl": "ftp://x"}),
        json!({"fallBackUrl": "https://"}),
        json!({"fallBackUrl": "https://a b"}),
    ] {
        let answer = http().post(&url).bearer_auth(&merchant).json(&bad).send().await.unwrap();
        assert_eq!(answer.status(), 400, "{bad}");
    }
    let unchanged: Value = http().get(&url).bearer_auth(&merchant).send().await.unwrap().json().await.unwrap();
    assert_eq!(unchanged, set, "a refused update changes nothing");
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_answer_with_a_body_to_parse() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let base = sandbox.base_url();
    let cases = [
        (reqwest::Method::GET, format!("{base}/merchant/no/such/path"), 404),
        (reqwest::Method::POST, format!("{base}/merchant/invoices"), 404),
        (reqwest::Method::GET, format!("{base}/merchant/consumer/invoice"), 405),
        (reqwest::Method::DELETE, format!("{base}/merchant/pg/config"), 405),
    ];
    for (method, url, status) in cases {
        let answer = http().request(method.clone(), &url).bearer_auth(&merchant).send().await.unwrap();
        assert_eq!(answer.status(), status, "{method} {url}");
        if status == 405 {
            let allow = answer.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            assert!(!allow.is_empty(), "405 names the allowed methods");
        }
        let body: Value = answer.json().await.expect("a JSON body");
        let path = url.trim_start_matches(base);
        assert_eq!((body["status"].as_u64(), body["path"].as_str()), (Some(u64::from(status)), Some(path)), "{body}");
        assert!(body["timestamp"].is_string() && body["error"].is_string() && body["message"].is_string(), "{body}");
    }
    // The realm answers as Keycloak does.
    let answer = http().get(format!("{}/protocol/openid-connect/nothing", sandbox.realm_url())).send().await.unwrap();
    assert_eq!(answer.status(), 404);
    let body: Value = answer.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
}
