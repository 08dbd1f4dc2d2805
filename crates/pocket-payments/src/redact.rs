//! A store's URL as it may be shown: in Debug output, logs and errors, never with its secrets.

/// `url` with its password and user name replaced by `REDACTED` — and a `password` query
/// parameter too, which PostgreSQL URLs may carry. `what` names the URL when it cannot be parsed
/// ("Redis", "PostgreSQL").
pub(crate) fn redact_url(url: &str, what: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return format!("[an unparsable {what} URL]");
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("REDACTED"));
    }
    if !parsed.username().is_empty() {
        let _ = parsed.set_username("REDACTED");
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(name, value)| {
            let secret = name.eq_ignore_ascii_case("password");
            (name.into_owned(), if secret { "REDACTED".to_owned() } else { value.into_owned() })
        })
        .collect();
    if !pairs.is_empty() {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn urls_are_shown_without_their_secrets() {
        let shown = redact_url("redis://app:s3cr3t-pass@redis.internal:6380/2", "Redis");
        assert!(!shown.contains("s3cr3t-pass") && !shown.contains("app:"), "{shown}");
        assert!(shown.contains("redis.internal:6380/2"), "{shown}");
        assert_eq!(redact_url("redis://127.0.0.1:6379", "Redis"), "redis://127.0.0.1:6379");
        assert!(!redact_url("redis://:p@ss word@host", "Redis").contains("ss word"));
        let pg = redact_url("postgres://shop:s3cr3t@db.internal:5433/shop?sslmode=require", "PostgreSQL");
        assert!(!pg.contains("s3cr3t") && pg.contains("@db.internal:5433/shop?sslmode=require"), "{pg}");
        let query = redact_url("postgres://db.internal/shop?user=shop&Password=hunter2", "PostgreSQL");
        assert!(!query.contains("hunter2") && query.contains("Password=REDACTED"), "{query}");
        assert_eq!(redact_url("not a url", "PostgreSQL"), "[an unparsable PostgreSQL URL]");
    }
}
