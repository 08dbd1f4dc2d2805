//! pocket.js and the OpenAPI document.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

#[tokio::test]
async fn pocket_js_is_served_by_the_app() {
    let app: axum::Router = pocket_axum::pocket_js_router("/pocket.js");
    let response = app.oneshot(Request::get("/pocket.js").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/javascript"));
    let script =
        String::from_utf8(axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    for wire in [
        "\"getToken\"",
        "\"getBack\"",
        "\"launchQpay\"",
        "\"openLink\"",
        "\"payInvoice\"",
        "onPayInvoiceComplete",
        "Promise",
    ] {
        assert!(script.contains(wire), "pocket.js lacks {wire}");
    }
    assert!(!script.contains("jquery") && !script.contains("http"), "no CDN, no jQuery");
    assert!(script.contains("payButton") && script.contains("Төлбөр төлөх"));

    let app: axum::Router = pocket_axum::pocket_js_router("/static/pocket.js");
    let response = app.oneshot(Request::get("/static/pocket.d.ts").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the declarations are served beside the script");
    let types = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert_eq!(types, pocket_axum::POCKET_D_TS.as_bytes());
}

#[test]
#[cfg(feature = "openapi")]
fn the_openapi_document_describes_the_webhook_and_the_rejections() {
    let document = serde_json::to_value(pocket_axum::openapi()).unwrap();
    let post = &document["paths"]["/pocket/webhook"]["post"];
    for status in ["200", "400", "413", "422", "500", "503"] {
        assert!(post["responses"][status].is_object(), "{status} is undocumented");
    }
    assert!(document["components"]["schemas"]["WebhookAnswer"].is_object());
    assert!(document["components"]["schemas"]["RejectionBody"].is_object());
}
