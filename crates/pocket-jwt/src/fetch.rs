//! Fetching the realm's small JSON documents (its discovery document, its keys): one GET with a
//! timeout, and a body read chunk by chunk that stops at a size limit instead of buffering
//! whatever a server sends.

use std::time::Duration;

use pocket_core::{Error, ErrorKind};

/// The HTTP client a verifier uses when the app gives none.
pub(crate) fn default_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder().build().map_err(|e| {
        Error::new(ErrorKind::Configuration, format!("the HTTP client could not be built: {e}")).with_source(e)
    })
}

/// Why a document could not be fetched.
#[derive(Debug)]
pub(crate) enum FetchError {
    /// No answer, an error status, or a connection that broke: try again later.
    Unavailable(String),
    /// The body is larger than allowed.
    TooLarge(usize),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unavailable(why) => f.write_str(why),
            FetchError::TooLarge(max) => write!(f, "the document is larger than {max} bytes"),
        }
    }
}

/// GETs `url` as JSON within `timeout` and returns its body, at most `max` bytes.
pub(crate) async fn fetch_json(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
    max: usize,
) -> Result<Vec<u8>, FetchError> {
    let mut response = http
        .get(url)
        .timeout(timeout)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| FetchError::Unavailable(format!("{url} did not answer: {e}")))?;
    if !response.status().is_success() {
        return Err(FetchError::Unavailable(format!("{url} answered {}", response.status())));
    }
    if response.content_length().is_some_and(|length| length > max as u64) {
        return Err(FetchError::TooLarge(max));
    }
    let mut body = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|e| FetchError::Unavailable(format!("reading {url} failed: {e}")))?
    {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
