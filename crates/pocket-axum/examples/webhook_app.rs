//! The webhook router in a running app, for `.ci/api-fuzz`: a sandbox in-process as Pocket, the
//! router from `PocketWebhook::for_client`, and `GET /openapi.json` serving
//! `pocket_axum::openapi()`. `cargo run -p pocket-axum --all-features --example webhook_app -- PORT`.

use pocket_axum::{PocketWebhook, handler_fn};
use pocket_http::PocketClient;
use pocket_sandbox::Sandbox;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args().nth(1).map(|p| p.parse()).transpose()?.unwrap_or(0);
    let sandbox = Sandbox::start().await?;
    let client = PocketClient::builder(sandbox.environment(), sandbox.credentials()).build()?;
    let webhook = PocketWebhook::for_client(client, handler_fn(|_| async { Ok(()) })).into_router();
    let document = serde_json::to_string(&pocket_axum::openapi())?;
    let app = webhook.route(
        "/openapi.json",
        axum::routing::get(move || async move { ([("content-type", "application/json")], document) }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("webhook app at http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    drop(sandbox);
    Ok(())
}
