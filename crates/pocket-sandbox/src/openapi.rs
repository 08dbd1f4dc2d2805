//! The OpenAPI document of the Pocket API as the sandbox models it, served at `/openapi.json`.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{gateway, merchant, reply, sso};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pocket merchant API (as modelled by pocket-sandbox)",
        description = "Pocket's SSO (Keycloak realm `invescore`) and merchant API, as documented by Pocket and as observed; \
                       where Pocket documents nothing, this is the sandbox's model. The payment webhook Pocket sends is \
                       `POST {fallBackUrl}` with `{id, amount, info, invoiceId, invoiceState, phoneNumber}`."
    ),
    paths(
        sso::token,
        sso::introspect,
        sso::certs,
        sso::discovery,
        merchant::creation::create_invoice,
        merchant::creation::create_qr_invoice,
        merchant::check_invoice,
        merchant::read_config,
        merchant::write_config,
        gateway::invoicing::generate_invoice,
        gateway::invoicing::invoice_by_order_number,
        gateway::invoicing::invoice_by_id,
        gateway::invoicing::is_paid,
        gateway::listing::branches,
        gateway::listing::terminals,
        gateway::invoicing::cancel,
    ),
    components(schemas(reply::OAuthError, reply::ApiError, reply::SpringError)),
    modifiers(&MerchantToken),
    tags(
        (name = "sso", description = "Keycloak: merchant tokens, introspection, signing keys"),
        (name = "merchant", description = "Invoices and the webhook address; every call needs a merchant token"),
        (name = "gateway", description = "Payment gateway (v2): QR and deep-link invoices for orders on the merchant's terminals; every call needs a merchant token; errors are Spring's"),
    )
)]
struct PocketApi;

struct MerchantToken;

impl Modify for MerchantToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme =
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build());
        openapi.components.get_or_insert_with(Default::default).add_security_scheme("merchant_token", scheme);
    }
}

/// An invoice amount as the sandbox reads it: a number of tögrög from 500 with at most two
/// decimals, or the same as text (`"560.00"`, as the wallet bridge writes amounts).
pub(crate) fn amount_schema() -> Schema {
    let number = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(500.0))
        .maximum(Some(9_999_999_999_999.99))
        .multiple_of(Some(0.01))
        .examples([serde_json::json!(560)]);
    let text = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^([5-9][0-9]{2}|[1-9][0-9]{3,12})(\.[0-9]{1,2})?$"))
        .examples([serde_json::json!("560.00")]);
    Schema::OneOf(OneOfBuilder::new().item(number).item(text).build())
}

/// The OpenAPI document of the Pocket API as the sandbox models it, pretty-printed JSON (what
/// a running sandbox serves at `/openapi.json`).
pub fn document() -> String {
    PocketApi::openapi().to_pretty_json().unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}

pub(crate) async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}
