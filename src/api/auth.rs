//! Bearer tokens. With `api.read_token` set, every endpoint but `/healthz`, `/readyz` and the
//! map's static files needs `Authorization: Bearer <token>` (the read or the write token);
//! `/metrics` too unless `api.metrics_public`. Event streams, which a browser's EventSource
//! cannot give headers, also take `?access_token=`. Writes (`POST /api/silences`) check the
//! write token in their handler. Tokens are compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

/// The tokens a request may carry.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    /// Empty: reads are open to whoever reaches the port.
    pub read: Arc<str>,
    /// Empty: writes are refused (403).
    pub write: Arc<str>,
    pub metrics_public: bool,
}

impl Tokens {
    /// Whether `token` is one of the configured tokens (never true for an empty one).
    pub fn grants_read(&self, token: &str) -> bool {
        matches(token, &self.read) || matches(token, &self.write)
    }

    pub fn grants_write(&self, token: &str) -> bool {
        matches(token, &self.write)
    }

    fn is_public(&self, method: &Method, path: &str) -> bool {
        let open = matches!(path, "/healthz" | "/readyz" | "/" | "/map.js" | "/map.css")
            || path.starts_with("/vendor/")
            || (path == "/metrics" && self.metrics_public);
        // A write is judged by its handler, against the write token.
        open || self.read.is_empty() || *method == Method::POST
    }
}

fn matches(token: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(token.as_bytes().ct_eq(expected.as_bytes()))
}

/// The bearer token of a request: its `Authorization` header, or for event streams an
/// `access_token` query parameter.
pub fn bearer(request_headers: &axum::http::HeaderMap, query: Option<&str>) -> Option<String> {
    let header = request_headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    header.or_else(|| {
        url::form_urlencoded::parse(query?.as_bytes())
            .find(|(name, _)| name == "access_token")
            .map(|(_, token)| token.into_owned())
    })
}

/// 401 for a request that needs the read token and lacks it.
pub async fn require_read(State(tokens): State<Tokens>, request: Request, next: Next) -> Response {
    if tokens.is_public(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let given = bearer(request.headers(), request.uri().query());
    if given.is_some_and(|t| tokens.grants_read(&t)) {
        return next.run(request).await;
    }
    unauthorized()
}

pub fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "a valid bearer token is required",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_tokens_are_decoded_and_empty_tokens_grant_nothing() {
        let headers = axum::http::HeaderMap::new();
        assert_eq!(
            bearer(&headers, Some("a=1&access_token=s%2Fe+c")).as_deref(),
            Some("s/e c")
        );
        let open = Tokens::default();
        assert!(!open.grants_read("") && !open.grants_write(""));
        let set = Tokens {
            read: "r".into(),
            write: "w".into(),
            metrics_public: false,
        };
        assert!(set.grants_read("r") && set.grants_read("w") && !set.grants_read("x"));
        assert!(set.grants_write("w") && !set.grants_write("r"));
        assert!(set.is_public(&Method::GET, "/healthz"));
        assert!(!set.is_public(&Method::GET, "/metrics"));
        assert!(!set.is_public(&Method::GET, "/api/risk"));
    }
}
