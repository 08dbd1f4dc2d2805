//! Token introspection (RFC 7662), and a verifier of wallet users built on it.

use async_trait::async_trait;
use pocket_core::{ConsumerToken, ConsumerTokenVerifier, Error, PocketUser, TokenRejection};
use serde_json::{Map, Value};

use crate::PocketClient;
use crate::retry::send_with_retries;
use crate::transport::{Outcome, decode, error_for, is_transient, operation_at};

/// What the realm says of a token.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is active: issued by the realm, unexpired, not revoked.
    pub active: bool,
    /// The token's claims when it is active (`sub`, `exp`, `azp`, `scope`, …); empty otherwise.
    pub claims: Map<String, Value>,
}

impl PocketClient {
    /// Asks the realm about `token` (RFC 7662) — a JWT or an opaque token — authenticating with
    /// the merchant's credentials as [`ClientAuth`](crate::ClientAuth) says. The token is sent to
    /// Pocket's SSO only; it is never logged.
    ///
    /// A realm that answers `400 unsupported_token_type` does not know the token: that is
    /// `active: false`, as RFC 7662 has it. The realm refusing the merchant's own credentials
    /// is [`ErrorKind::Unauthorized`](pocket_core::ErrorKind::Unauthorized) — a configuration
    /// fault, not the user's.
    pub async fn introspect(&self, token: &str) -> Result<Introspection, Error> {
        let operation = "introspect a token";
        self.traced(operation, None, async {
            let settings = &self.inner.settings;
            let url = settings.environment.introspection_url();
            let outcome = send_with_retries(&settings.retry, "introspect", is_transient, || {
                settings.realm_form(&url, &[("token", token)])
            })
            .await;
            let body = match &outcome {
                Outcome::Answered { status: 200..=299, body, .. } => body,
                Outcome::Answered { status: 400, body, .. } if oauth_error(body) == Some("unsupported_token_type") => {
                    return Ok(Introspection { active: false, claims: Map::new() });
                }
                failed => return Err(error_for(&operation_at(operation, &url), failed)),
            };
            let mut claims: Map<String, Value> = decode(operation, body)?;
            let active = match claims.remove("active") {
                Some(Value::Bool(active)) => active,
                _ => return Err(Error::decode("active", format!("{operation}: the answer has no boolean `active`"))),
            };
            Ok(Introspection { active, claims: if active { claims } else { Map::new() } })
        })
        .await
    }
}

/// The OAuth `error` code of an error body, if it has one.
fn oauth_error(body: &[u8]) -> Option<&str> {
    #[derive(serde::Deserialize)]
    struct OAuthError<'a> {
        #[serde(borrow)]
        error: Option<&'a str>,
    }
    serde_json::from_slice::<OAuthError>(body).ok()?.error
}

/// Verifies wallet users by asking the realm (introspection) instead of checking signatures
/// locally — the seed document's alternative to pocket-jwt. One request to Pocket per
/// verification; it sees revocations at once.
///
/// Accepts only active access tokens (`token_type`/`typ` Bearer, when present) of any format,
/// and refuses service accounts' tokens — the merchant's own client-credentials token among them
/// (see [`PocketUser::service_account_mark`]) — unless told otherwise.
#[derive(Debug, Clone)]
pub struct IntrospectionVerifier {
    client: PocketClient,
    accept_service_accounts: bool,
}

impl IntrospectionVerifier {
    /// A verifier asking the realm of `client`'s environment with `client`'s credentials.
    pub fn new(client: PocketClient) -> IntrospectionVerifier {
        IntrospectionVerifier { client, accept_service_accounts: false }
    }

    /// Accept service accounts' tokens as users (default: refused as
    /// [`TokenRejection::ServiceAccount`]).
    pub fn accept_service_accounts(mut self, accept: bool) -> IntrospectionVerifier {
        self.accept_service_accounts = accept;
        self
    }
}

#[async_trait]
impl ConsumerTokenVerifier for IntrospectionVerifier {
    async fn verify(&self, token: &str) -> Result<PocketUser, Error> {
        let token = ConsumerToken::opaque(token).map_err(|e| {
            Error::invalid_token(TokenRejection::Malformed, format!("the token is not a bearer token: {e}"))
        })?;
        let answer = self.client.introspect(token.expose_secret()).await?;
        if !answer.active {
            return Err(Error::invalid_token(TokenRejection::Inactive, "the realm says the token is not active"));
        }
        let kind = answer.claims.get("typ").or_else(|| answer.claims.get("token_type")).and_then(Value::as_str);
        if kind.is_some_and(|kind| !kind.eq_ignore_ascii_case("bearer")) {
            return Err(Error::invalid_token(TokenRejection::WrongType, "the token is not an access token"));
        }
        // RFC 7662 makes `sub` optional: an active token of no subject (an opaque
        // client-credentials token) is a client's, not a wallet user's — not a malformed one.
        if answer.claims.get("sub").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(Error::invalid_token(
                TokenRejection::ServiceAccount,
                "the realm says the token is active but names no user (no `sub`): a client's own token, not a wallet user's",
            ));
        }
        let user = PocketUser::from_claims(token, answer.claims)?;
        // RFC 7662 answers carry `client_id` for every token: it marks nothing here.
        if self.accept_service_accounts { Ok(user) } else { user.refuse_service_account(&["client_id"]) }
    }
}
