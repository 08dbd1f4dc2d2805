//! Settings for [`PocketAuth`]: which realm, how its users are verified, and what their tokens
//! must be pinned to.

use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderName;
use pocket_core::{ConsumerTokenVerifier, Environment, Error, PocketUser};
use pocket_jwt::JwtVerifier;

use crate::user::PocketAuth;

impl PocketAuth {
    /// Users verified locally with pocket-jwt against `environment`'s realm, with the default
    /// rules; [`PocketAuth::builder`] pins `azp`/`aud`, sets the leeway or uses introspection.
    pub fn for_environment(environment: impl Into<Environment>) -> Result<PocketAuth, Error> {
        PocketAuth::builder(environment).build()
    }

    /// Settings for verifying the users of `environment`'s realm: locally with pocket-jwt (the
    /// default) or by introspection.
    pub fn builder(environment: impl Into<Environment>) -> PocketAuthBuilder {
        PocketAuthBuilder::new(environment.into())
    }
}

/// Builds a [`PocketAuth`]; made by [`PocketAuth::builder`].
///
/// Pocket does not publish the `azp` and `aud` its wallet tokens carry. Once observed (the
/// sandbox issues users' tokens to the merchant's own client, and `aud` `account`; log
/// [`PocketUser::authorized_party`] and `extra["aud"]` of a real user's token on staging), pin
/// them with [`authorized_party`](Self::authorized_party) and [`audience`](Self::audience):
/// a token issued to another mini-app is then refused.
#[must_use]
pub struct PocketAuthBuilder {
    environment: Environment,
    authorized_parties: Vec<String>,
    audiences: Vec<String>,
    leeway: Option<Duration>,
    accept_service_accounts: bool,
    header: Option<HeaderName>,
    #[cfg(feature = "http")]
    introspection: Option<pocket_http::PocketClient>,
}

impl std::fmt::Debug for PocketAuthBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PocketAuthBuilder")
            .field("environment", &self.environment)
            .field("authorized_parties", &self.authorized_parties)
            .field("audiences", &self.audiences)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl PocketAuthBuilder {
    pub(crate) fn new(environment: Environment) -> PocketAuthBuilder {
        PocketAuthBuilder {
            environment,
            authorized_parties: Vec::new(),
            audiences: Vec::new(),
            leeway: None,
            accept_service_accounts: false,
            header: None,
            #[cfg(feature = "http")]
            introspection: None,
        }
    }

    /// Accept only tokens issued to this client (`azp`); may be given several times.
    pub fn authorized_party(mut self, client_id: impl Into<String>) -> Self {
        self.authorized_parties.push(client_id.into());
        self
    }

    /// Accept only tokens meant for this audience (`aud`); may be given several times.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat` (pocket-jwt's default 30 s). Introspection
    /// leaves time to the realm.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Accept service accounts' tokens as users (default: refused; see
    /// [`PocketUser::service_account_mark`]).
    pub fn accept_service_accounts(mut self, accept: bool) -> Self {
        self.accept_service_accounts = accept;
        self
    }

    /// Take the token (the bare token) from this header instead of `Authorization: Bearer`.
    pub fn token_header(mut self, header: HeaderName) -> Self {
        self.header = Some(header);
        self
    }

    /// Verify users by asking the realm (RFC 7662) with this client's credentials instead of
    /// checking signatures locally: one request per verification, revocations seen at once.
    #[cfg(feature = "http")]
    pub fn introspection(mut self, client: pocket_http::PocketClient) -> Self {
        self.introspection = Some(client);
        self
    }

    /// Builds the extractor's state.
    pub fn build(self) -> Result<PocketAuth, Error> {
        #[cfg(feature = "http")]
        if let Some(client) = self.introspection {
            let verifier =
                pocket_http::IntrospectionVerifier::new(client).accept_service_accounts(self.accept_service_accounts);
            let pinned = Pinned { verifier, authorized_parties: self.authorized_parties, audiences: self.audiences };
            return Ok(with_header(PocketAuth::new(pinned), self.header));
        }
        let mut jwt = JwtVerifier::builder(self.environment).accept_service_accounts(self.accept_service_accounts);
        for party in self.authorized_parties {
            jwt = jwt.authorized_party(party);
        }
        for audience in self.audiences {
            jwt = jwt.audience(audience);
        }
        if let Some(leeway) = self.leeway {
            jwt = jwt.leeway(leeway);
        }
        Ok(with_header(PocketAuth::new(jwt.build()?), self.header))
    }
}

fn with_header(auth: PocketAuth, header: Option<HeaderName>) -> PocketAuth {
    match header {
        Some(header) => auth.with_token_header(header),
        None => auth,
    }
}

/// An introspecting verifier with the `azp`/`aud` pins pocket-jwt applies itself.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
struct Pinned<V> {
    verifier: V,
    authorized_parties: Vec<String>,
    audiences: Vec<String>,
}

#[async_trait]
impl<V: ConsumerTokenVerifier> ConsumerTokenVerifier for Pinned<V> {
    async fn verify(&self, token: &str) -> Result<PocketUser, Error> {
        let user = self.verifier.verify(token).await?;
        let azp = user.authorized_party.as_deref();
        pocket_core::check_pins(azp, user.extra.get("aud").as_ref(), &self.authorized_parties, &self.audiences)?;
        Ok(user)
    }
}
