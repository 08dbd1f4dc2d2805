//! Secret material: client credentials and tokens. None of it is ever shown by `Debug` or
//! `Display`; reading the value takes an explicit `expose_secret()`.

use std::fmt;
use std::sync::Arc;

const REDACTED: &str = "[REDACTED]";

/// Defines a cheap-to-clone string newtype whose `Debug` and `Display` never show the value.
macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Arc<str>);

        impl $name {
            /// The secret value itself. Keep it out of logs, errors and responses.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({REDACTED})", stringify!($name))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(REDACTED)
            }
        }
    };
}

secret_string!(
    /// The merchant's `client_secret`, issued by Pocket with the `client_id`.
    ClientSecret
);
secret_string!(
    /// The merchant token: an access token of the merchant's own client, from the realm's token
    /// endpoint, sent as `Authorization: Bearer` to the merchant API.
    MerchantToken
);
secret_string!(
    /// A refresh token from the realm's token endpoint.
    RefreshToken
);
secret_string!(
    /// The wallet user's ID token (an RS256 JWT), handed to the mini-app page by
    /// `Pocket.getToken` and sent by the page to the merchant's backend.
    ///
    /// Holding one proves nothing: it is checked only for the shape of a JWT here. Verify it with
    /// a [`ConsumerTokenVerifier`](crate::ConsumerTokenVerifier) before trusting its claims.
    ConsumerToken
);

impl ClientSecret {
    /// Wraps a client secret.
    pub fn new(secret: impl Into<String>) -> ClientSecret {
        ClientSecret(secret.into().into())
    }
}

impl MerchantToken {
    /// Wraps a merchant access token.
    pub fn new(token: impl Into<String>) -> MerchantToken {
        MerchantToken(token.into().into())
    }
}

impl RefreshToken {
    /// Wraps a refresh token.
    pub fn new(token: impl Into<String>) -> RefreshToken {
        RefreshToken(token.into().into())
    }
}

/// Why a text is not shaped like a JWT. The token itself is never part of the error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumerTokenError {
    /// The token was empty.
    #[error("the consumer token is empty")]
    Empty,
    /// The token did not have exactly three parts separated by dots.
    #[error("the consumer token has {segments} dot-separated parts; a JWT has exactly 3")]
    WrongSegmentCount {
        /// How many parts it had.
        segments: usize,
    },
    /// One of the three parts was empty.
    #[error("part {index} of the consumer token is empty")]
    EmptySegment {
        /// The zero-based part index.
        index: usize,
    },
    /// A token longer than 16 KiB.
    #[error("the consumer token is {bytes} bytes long; at most 16 KiB are accepted")]
    TooLong {
        /// Its length.
        bytes: usize,
    },
    /// A character outside the token alphabet.
    #[error("the consumer token has a character outside the token alphabet at byte {position}")]
    InvalidCharacter {
        /// The zero-based byte offset.
        position: usize,
    },
}

impl ConsumerToken {
    /// Wraps a consumer token after checking that it is shaped like a compact JWT: three
    /// non-empty base64url parts separated by dots, nothing around them.
    pub fn new(token: impl AsRef<str>) -> Result<ConsumerToken, ConsumerTokenError> {
        let token = token.as_ref();
        ConsumerToken::check_shape(token)?;
        Ok(ConsumerToken(token.into()))
    }

    /// Wraps a bearer token of any format — an opaque reference token as well as a JWT — after
    /// checking RFC 6750's `b64token` syntax: letters, digits, `-._~+/`, then optional `=`
    /// padding, at most 16 KiB. For verifiers that ask the realm (introspection) rather than
    /// read the token.
    pub fn opaque(token: impl AsRef<str>) -> Result<ConsumerToken, ConsumerTokenError> {
        let token = token.as_ref();
        if token.is_empty() {
            return Err(ConsumerTokenError::Empty);
        }
        if token.len() > MAX_OPAQUE {
            return Err(ConsumerTokenError::TooLong { bytes: token.len() });
        }
        let body = token.trim_end_matches('=');
        let bad = |b: u8| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'));
        if body.is_empty() {
            return Err(ConsumerTokenError::InvalidCharacter { position: 0 });
        }
        if let Some(position) = body.bytes().position(bad) {
            return Err(ConsumerTokenError::InvalidCharacter { position });
        }
        Ok(ConsumerToken(token.into()))
    }

    /// Checks that `token` is shaped like a compact JWT — three non-empty base64url parts
    /// separated by dots, nothing around them — without keeping it. Verifiers use it as their
    /// first, cheap check.
    pub fn check_shape(token: &str) -> Result<(), ConsumerTokenError> {
        check_jwt_shape(token)
    }

    /// The middle part of a JWT-shaped token (its claims, base64url); `None` for an opaque one.
    pub(crate) fn payload_part(&self) -> Option<&str> {
        let (first, last) = (self.0.find('.')?, self.0.rfind('.')?);
        (first < last).then(|| &self.0[first + 1..last])
    }
}

/// The longest opaque token accepted.
const MAX_OPAQUE: usize = 16 * 1024;

/// Whether a byte may appear in a compact JWT: the base64url alphabet and the dot. Branch-free,
/// so that a whole block of a token is checked without a jump per byte.
fn is_jwt_byte(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    letter | digit | (b == b'-') | (b == b'_') | (b == b'.')
}

fn check_jwt_shape(token: &str) -> Result<(), ConsumerTokenError> {
    if token.is_empty() {
        return Err(ConsumerTokenError::Empty);
    }
    // Whole blocks without an early exit, so that the compiler checks (and counts the dots of)
    // many bytes per instruction; the position is looked for only when there is something to
    // report.
    let (mut valid, mut dots) = (true, 0);
    for block in token.as_bytes().chunks(64) {
        let (block_valid, block_dots) =
            block.iter().fold((true, 0u8), |(ok, dots), &b| (ok & is_jwt_byte(b), dots + u8::from(b == b'.')));
        valid &= block_valid;
        dots += usize::from(block_dots);
    }
    if !valid {
        let position = token.bytes().position(|b| !is_jwt_byte(b)).unwrap_or_default();
        return Err(ConsumerTokenError::InvalidCharacter { position });
    }
    if dots != 2 {
        return Err(ConsumerTokenError::WrongSegmentCount { segments: dots + 1 });
    }
    // Two dots: the parts are empty only where a dot is at an edge or next to the other one.
    let (first, last) = (token.find('.').unwrap_or_default(), token.rfind('.').unwrap_or_default());
    let empty = [first == 0, last == first + 1, last == token.len() - 1];
    match empty.iter().position(|&is_empty| is_empty) {
        Some(index) => Err(ConsumerTokenError::EmptySegment { index }),
        None => Ok(()),
    }
}

/// The merchant's OAuth client: `client_id` and `client_secret`, issued by Pocket.
///
/// ```
/// use pocket_core::Credentials;
///
/// let credentials = Credentials::new("my-shop", "s3cr3t");
/// assert_eq!(credentials.client_id(), "my-shop");
/// assert!(!format!("{credentials:?}").contains("s3cr3t"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    client_id: String,
    client_secret: ClientSecret,
}

impl Credentials {
    /// Credentials from a client id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Credentials {
        Credentials { client_id: client_id.into(), client_secret: ClientSecret::new(client_secret) }
    }

    /// The `client_id` (not a secret).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `client_secret`.
    pub fn client_secret(&self) -> &ClientSecret {
        &self.client_secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl";

    #[test]
    fn secrets_never_show_in_debug_or_display() {
        let secret = "hunter2-very-secret";
        let shown = [
            format!("{:?}", ClientSecret::new(secret)),
            format!("{}", ClientSecret::new(secret)),
            format!("{:?}", MerchantToken::new(secret)),
            format!("{}", MerchantToken::new(secret)),
            format!("{:?}", RefreshToken::new(secret)),
            format!("{:#?}", RefreshToken::new(secret)),
            format!("{:?}", Credentials::new("shop", secret)),
            format!("{:#?}", Credentials::new("shop", secret)),
        ];
        for text in shown {
            assert!(!text.contains(secret), "leaked in {text}");
            assert!(text.contains(REDACTED), "{text} should say it is redacted");
        }
        let token = ConsumerToken::new(JWT).unwrap();
        for text in [format!("{token:?}"), format!("{token}"), format!("{token:#?}")] {
            assert!(!text.contains("eyJ"), "leaked in {text}");
        }
        assert_eq!(token.expose_secret(), JWT);
    }

    #[test]
    fn debug_names_the_type_and_the_client_id() {
        assert_eq!(format!("{:?}", MerchantToken::new("x")), "MerchantToken([REDACTED])");
        let shown = format!("{:?}", Credentials::new("my-shop", "x"));
        assert_eq!(shown, "Credentials { client_id: \"my-shop\", client_secret: ClientSecret([REDACTED]) }");
    }

    #[test]
    fn consumer_token_must_be_jwt_shaped() {
        use ConsumerTokenError::*;
        assert_eq!(ConsumerToken::new(""), Err(Empty));
        assert_eq!(ConsumerToken::new("abc"), Err(WrongSegmentCount { segments: 1 }));
        assert_eq!(ConsumerToken::new("a.b"), Err(WrongSegmentCount { segments: 2 }));
        assert_eq!(ConsumerToken::new("a.b.c.d"), Err(WrongSegmentCount { segments: 4 }));
        assert_eq!(ConsumerToken::new("a..c"), Err(EmptySegment { index: 1 }));
        assert_eq!(ConsumerToken::new("a.b."), Err(EmptySegment { index: 2 }));
        assert_eq!(ConsumerToken::new(".b.c"), Err(EmptySegment { index: 0 }));
        assert_eq!(ConsumerToken::new(".."), Err(EmptySegment { index: 0 }));
        assert_eq!(ConsumerToken::new(format!("{}..", "a".repeat(200))), Err(EmptySegment { index: 1 }));
        assert_eq!(ConsumerToken::new(".".repeat(130)), Err(WrongSegmentCount { segments: 131 }));
        assert_eq!(ConsumerToken::new(" a.b.c"), Err(InvalidCharacter { position: 0 }));
        assert_eq!(ConsumerToken::new("a.b.c=="), Err(InvalidCharacter { position: 5 }));
        assert_eq!(ConsumerToken::new("a+/.b.c"), Err(InvalidCharacter { position: 1 }));
        assert!(ConsumerToken::new(JWT).is_ok());
    }

    #[test]
    fn consumer_token_errors_never_echo_the_token() {
        let hostile = "secret-part.with space.x";
        let message = ConsumerToken::new(hostile).unwrap_err().to_string();
        assert!(!message.contains("secret-part"), "{message}");
    }

    #[test]
    fn opaque_tokens_of_any_format_are_accepted_with_rfc_6750_syntax() {
        for good in ["2YotnFZFEjr1zCsicMWpAA", "a.b.c", "abc+/=", "x~y-z_w.v==", "aGVhZGVy.cGF5bG9hZA.c2ln"] {
            assert!(ConsumerToken::opaque(good).is_ok(), "{good}");
        }
        assert_eq!(ConsumerToken::opaque("").unwrap_err(), ConsumerTokenError::Empty);
        for (bad, at) in [("a b", 1), ("a\nb", 1), ("=abc", 0), ("ab=c", 2), ("тест", 0), ("==", 0)] {
            assert_eq!(
                ConsumerToken::opaque(bad).unwrap_err(),
                ConsumerTokenError::InvalidCharacter { position: at },
                "{bad:?}"
            );
        }
        assert!(matches!(ConsumerToken::opaque("a".repeat(16 * 1024 + 1)), Err(ConsumerTokenError::TooLong { .. })));
        let error = ConsumerToken::opaque("secret value").unwrap_err().to_string();
        assert!(!error.contains("secret"), "{error}");
    }

    /// The rule as written in words, for the branch-free test to be held to.
    const JWT_BYTE: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.';
            b += 1;
        }
        table
    };

    #[test]
    fn the_branch_free_byte_test_is_the_table() {
        for b in 0..=255u8 {
            assert_eq!(is_jwt_byte(b), JWT_BYTE[usize::from(b)], "byte {b}");
        }
    }
}
