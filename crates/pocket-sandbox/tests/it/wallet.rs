//! The wallet simulator's server side: the shim, the home page, the mini-app pass-through, and
//! the token the consent screen asks for. (The screens themselves run in a browser.)

use crate::common;

use axum::Router;
use axum::routing::{get, post};
use common::*;
use serde_json::{Value, json};

async fn mini_app() -> String {
    let app = Router::new()
        .route(
            "/",
            get(|| async { axum::response::Html("<html><head><title>Shop</title></head><body>hi</body></html>") }),
        )
        .route("/api/echo", post(|body: String| async move { format!("echo:{body}") }))
        .route("/go", get(|| async { axum::response::Redirect::to("/") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

#[tokio::test]
async fn the_shim_and_home_page_are_served() {
    let sandbox = start().await;
    let shim = http().get(format!("{}/wallet/pocket-mobile.js", sandbox.base_url())).send().await.unwrap();
    assert!(shim.headers()["content-type"].to_str().unwrap().starts_with("application/javascript"));
    let text = shim.text().await.unwrap();
    for needle in
        ["window.PocketMobile", "onGetTokenComplete", "onPayInvoiceComplete", "getBack", "launchQpay", "openLink"]
    {
        assert!(text.contains(needle), "the shim lacks {needle}");
    }
    let home = http().get(sandbox.wallet_url()).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Бат-Эрдэнэ Дорж"), "the home page names the wallet user");
}

#[tokio::test]
async fn the_mini_app_is_served_with_the_bridge_injected() {
    let sandbox = start().await;
    let webview = sandbox.webview_url().to_owned();
    let missing = http().get(format!("{webview}/")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    let shop = mini_app().await;
    sandbox.set_mini_app_url(&shop);
    let page = http().get(format!("{webview}/")).send().await.unwrap().text().await.unwrap();
    let tag = format!(r#"<script src="{}/wallet/pocket-mobile.js"></script>"#, sandbox.base_url());
    assert!(page.starts_with(&format!("<html><head>{tag}<title>")), "{page}");
    let echoed = http().post(format!("{webview}/api/echo?x=1")).body("Сайн уу").send().await.unwrap();
    assert_eq!(echoed.text().await.unwrap(), "echo:Сайн уу", "other responses pass through untouched");
    let redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let moved = redirect.get(format!("{webview}/go")).send().await.unwrap();
    assert_eq!(moved.status(), 303);
    assert_eq!(moved.headers()["location"], "/");
}

#[tokio::test]
async fn an_unreachable_mini_app_is_a_bad_gateway() {
    let sandbox = start().await;
    sandbox.set_mini_app_url("http://127.0.0.1:9");
    let answer = http().get(format!("{}/", sandbox.webview_url())).send().await.unwrap();
    assert_eq!(answer.status(), 502);
}

#[tokio::test]
async fn consent_mints_a_token_for_the_consented_scopes() {
    let sandbox = start().await;
    let url = format!("{}/_sandbox/consumer-tokens", sandbox.base_url());
    let tokens: Value =
        http().post(&url).json(&json!({"scopes": ["openid", "profile"]})).send().await.unwrap().json().await.unwrap();
    let access = tokens["accessToken"].as_str().unwrap();
    assert!(tokens["refreshToken"].is_string());
    let claims = claims(access);
    assert_eq!(claims["given_name"], "Бат-Эрдэнэ");
    assert!(claims.get("phone_number").is_none());
    let merchant = merchant_token(&sandbox).await;
    let created =
        create_invoice(&sandbox, &merchant, json!({"amount": 900, "info": "Цай", "consumerToken": access})).await;
    assert_eq!(created.status(), 200, "the wallet's token is a consumer token of the realm");
    let bad = http().post(&url).json(&json!({"scope": "x"})).send().await.unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn the_openapi_document_describes_every_pocket_endpoint() {
    let sandbox = start().await;
    let document: Value =
        http().get(format!("{}/openapi.json", sandbox.base_url())).send().await.unwrap().json().await.unwrap();
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/auth/realms/invescore/protocol/openid-connect/token",
        "/auth/realms/invescore/protocol/openid-connect/token/introspect",
        "/auth/realms/invescore/protocol/openid-connect/certs",
        "/auth/realms/invescore/.well-known/openid-configuration",
        "/merchant/consumer/invoice",
        "/merchant/invoice/check/{id}",
        "/merchant/pg/config",
    ] {
        assert!(paths.contains_key(path), "{path} is missing");
    }
    assert!(paths["/merchant/pg/config"]["get"].is_object() && paths["/merchant/pg/config"]["post"].is_object());
    assert!(document["components"]["schemas"]["OAuthError"].is_object());
    assert_eq!(serde_json::from_str::<Value>(&sandbox.openapi_json()).unwrap(), document);
}
