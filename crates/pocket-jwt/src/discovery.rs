//! OpenID Connect discovery: the realm says where its keys are and what its tokens' `iss` is.

use std::time::Duration;

use pocket_core::{Environment, Error, ErrorKind};
use serde::Deserialize;

use crate::fetch::{FetchError, default_client, fetch_json};
use crate::{JwtVerifier, JwtVerifierBuilder};

/// Discovery documents are small; anything larger is refused rather than buffered.
const MAX_DOCUMENT: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct Document {
    issuer: Option<String>,
    jwks_uri: Option<String>,
}

impl JwtVerifier {
    /// Reads the realm's discovery document (`{realm_url}/.well-known/openid-configuration`) and
    /// starts a builder with the issuer and the JWKS URL it names — for a realm whose issuer or
    /// key address differs from the usual Keycloak layout. The document is fetched once, now.
    ///
    /// An unreachable realm is [`ErrorKind::Unavailable`]; a document without an `issuer` or an
    /// http(s) `jwks_uri`, or larger than 256 KiB, is [`ErrorKind::Protocol`].
    pub async fn discover(environment: impl Into<Environment>) -> Result<JwtVerifierBuilder, Error> {
        JwtVerifier::discover_with(environment, default_client()?).await
    }

    /// Like [`discover`](Self::discover), fetching with `http` — the app's client, with its
    /// proxy and TLS settings — which the returned builder then uses for the keys too.
    pub async fn discover_with(
        environment: impl Into<Environment>,
        http: reqwest::Client,
    ) -> Result<JwtVerifierBuilder, Error> {
        let url = environment.into().discovery_url();
        let protocol = |why: &str| Error::new(ErrorKind::Protocol, format!("discovery at {url}: {why}"));
        let body = match fetch_json(&http, &url, TIMEOUT, MAX_DOCUMENT).await {
            Ok(body) => body,
            Err(FetchError::TooLarge(_)) => return Err(protocol("the document is too large")),
            Err(FetchError::Unavailable(why)) => {
                return Err(Error::new(ErrorKind::Unavailable, format!("discovery at {url}: {why}")));
            }
        };
        let document: Document =
            serde_json::from_slice(&body).map_err(|_| protocol("the answer is not a discovery document"))?;
        let issuer = document.issuer.filter(|issuer| !issuer.is_empty()).ok_or_else(|| protocol("no issuer"))?;
        let jwks = document
            .jwks_uri
            .filter(|uri| uri.starts_with("https://") || uri.starts_with("http://"))
            .ok_or_else(|| protocol("no http(s) jwks_uri"))?;
        tracing::debug!(%issuer, %jwks, "discovered the realm's issuer and keys");
        Ok(JwtVerifier::builder_for_issuer(issuer).jwks_url(jwks).http_client(http))
    }
}
