//! The OpenAPI schema of the notice the webhook route reads: what Pocket may send, in every
//! shape the route accepts.

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};

/// The webhook's request body as the route reads it (a `WebhookNotice`): only `invoiceId` is
/// required; every documented field may be text or a number (or `null`), and any other field is
/// kept.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct Notice {
    /// The invoice: a whole number, or text of 1 to 256 characters without control characters
    /// that is not `.` or `..`.
    #[schema(schema_with = invoice_id)]
    invoice_id: String,
    /// The transaction's record number.
    #[schema(schema_with = text_or_number)]
    id: Option<String>,
    /// The amount the sender claims (compared with Pocket's; never trusted).
    #[schema(schema_with = amount)]
    amount: Option<String>,
    /// The note.
    #[schema(schema_with = text_or_number)]
    info: Option<String>,
    /// The state the sender claims: text in any case or an integer code (any other scalar is
    /// kept as an unknown state).
    #[schema(schema_with = state)]
    invoice_state: Option<String>,
    /// The payer's phone number.
    #[schema(schema_with = text_or_number)]
    phone_number: Option<String>,
    /// A gateway payment's hold.
    #[schema(schema_with = text_or_number)]
    held_id: Option<String>,
    /// A gateway invoice's order number.
    #[schema(schema_with = text_or_number)]
    order_number: Option<String>,
}

/// Characters a text id may not contain.
const NO_CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";

fn typed(types: &[Type]) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter(types.iter().cloned()))
}

fn invoice_id() -> Schema {
    // Not exactly `.` or `..`: a first character other than a dot, or a dot followed by a
    // non-dot, or two dots followed by more.
    let c = format!("[^{NO_CONTROL}]");
    let not_dot = format!("[^{NO_CONTROL}.]");
    let pattern = format!("^({not_dot}{c}*|\\.{not_dot}{c}*|\\.\\.{c}+)$");
    let text = typed(&[Type::String]).min_length(Some(1)).max_length(Some(256)).pattern(Some(pattern));
    Schema::OneOf(OneOfBuilder::new().item(typed(&[Type::Integer])).item(text).build())
}

fn text_or_number() -> Schema {
    Schema::Object(typed(&[Type::String, Type::Integer, Type::Null]).build())
}

fn state() -> Schema {
    Schema::Object(typed(&[Type::String, Type::Number, Type::Boolean, Type::Null]).build())
}

fn amount() -> Schema {
    let number = typed(&[Type::Number]).minimum(Some(0.0)).maximum(Some(9_999_999_999_999.99)).multiple_of(Some(0.01));
    let text = typed(&[Type::String]).pattern(Some(r"^[0-9]{1,13}(\.[0-9]{1,2})?$"));
    Schema::OneOf(OneOfBuilder::new().item(number).item(text).item(typed(&[Type::Null])).build())
}
