//! The warnings API: `GET /api/warnings` (filters), `GET /api/warnings/{id}` (every record of
//! one warning, with its evidence and provenance), `GET /api/warnings/stream` (server-sent
//! events, one per record), `GET /api/warnings/kpis`, and `GET`/`POST /api/silences` (posting
//! needs the bearer token).

use std::convert::Infallible;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::stream::Stream;
use subtle::ConstantTimeEq;

use crate::warnings::view::WarningQuery;
use crate::warnings::{Silence, SilenceSpec};

use super::routes::AppState;

pub async fn list(
    State(app): State<AppState>,
    Query(query): Query<WarningQuery>,
) -> impl IntoResponse {
    Json(app.warnings.list(&query))
}

pub async fn one(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    match app.warnings.get(&id) {
        Some(records) => Json(records).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no warning {id}")).into_response(),
    }
}

pub async fn kpis(State(app): State<AppState>) -> impl IntoResponse {
    Json(app.warnings.kpis())
}

/// One `warning` event per record, as it is published.
pub async fn stream(
    State(app): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    super::sse::events(app.warnings.subscribe(), "vigil warnings", |r| {
        ("warning", Some(r.id.clone()))
    })
}

pub async fn silences(State(app): State<AppState>) -> impl IntoResponse {
    Json(app.silences.list())
}

pub async fn add_silence(
    State(app): State<AppState>,
    headers: HeaderMap,
    Json(spec): Json<SilenceSpec>,
) -> Response {
    if app.api_token.is_empty() {
        return (
            StatusCode::FORBIDDEN,
            "silences cannot be posted: warnings.api_token is not set",
        )
            .into_response();
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Constant time, so response timing does not tell how much of a guess was right.
    let valid =
        bearer.is_some_and(|token| bool::from(token.as_bytes().ct_eq(app.api_token.as_bytes())));
    if !valid {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a valid bearer token is required",
        )
            .into_response();
    }
    let silence = match Silence::new(spec) {
        Ok(silence) => silence,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    };
    // Kept before it takes effect: a silence the service answered for survives a restart.
    if let Some(journal) = app.silences.journal() {
        if let Err(e) = journal.append(&silence).await {
            tracing::warn!(id = %silence.id, error = %e, "silence not recorded");
            return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
        }
    }
    app.silences.insert(silence.clone());
    tracing::info!(id = %silence.id, by = %silence.spec.created_by, "silence added");
    (StatusCode::CREATED, Json(silence)).into_response()
}
