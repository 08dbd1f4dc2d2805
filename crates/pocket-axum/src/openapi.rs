//! The OpenAPI document of what this crate adds to an app.

use utoipa::OpenApi;

use crate::notice_schema::Notice;
use crate::user::RejectionBody;
use crate::webhook::{__path_deliver, WebhookAnswer};

#[derive(OpenApi)]
#[openapi(
    info(title = "pocket-axum", description = "The Pocket payment webhook and the wallet user's rejection bodies."),
    paths(deliver),
    components(schemas(WebhookAnswer, RejectionBody, Notice)),
    tags((name = "webhook", description = "Pocket posts here after a payment; the notice is verified with Pocket before anything happens"))
)]
struct Document;

/// The OpenAPI document: the webhook route (at its default path) and the bodies of the
/// webhook's answers and of the user extractor's rejections.
pub fn openapi() -> utoipa::openapi::OpenApi {
    Document::openapi()
}
