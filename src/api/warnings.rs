//! The warnings API: `GET /api/warnings` (filters), `GET /api/warnings/{id}` (every record of
//! one warning, with its evidence and provenance), `GET /api/warnings/stream` (server-sent
//! events, one per record), `GET /api/warnings/kpis`, and `GET`/`POST /api/silences` (posting
//! needs the bearer token).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::warnings::view::WarningQuery;
use crate::warnings::{Silence, SilenceSpec};

use super::state::AppState;

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

/// One `warning` event per record, as it is published (503 beyond `api.max_sse_clients`).
pub async fn stream(State(app): State<AppState>) -> Response {
    let Some(slot) = app.sse.take() else {
        return super::sse::too_many_streams();
    };
    super::sse::events(app.warnings.subscribe(), slot, "vigil warnings", |r| {
        ("warning", Some(r.id.clone()))
    })
    .into_response()
}

pub async fn silences(State(app): State<AppState>) -> impl IntoResponse {
    Json(app.silences.list())
}

pub async fn add_silence(
    State(app): State<AppState>,
    headers: HeaderMap,
    Json(spec): Json<SilenceSpec>,
) -> Response {
    if app.tokens.write.is_empty() {
        return (
            StatusCode::FORBIDDEN,
            "silences cannot be posted: api.write_token (or warnings.api_token) is not set",
        )
            .into_response();
    }
    // Constant time, so response timing does not tell how much of a guess was right.
    let token = super::auth::bearer(&headers, None);
    if !token.is_some_and(|t| app.tokens.grants_write(&t)) {
        return super::auth::unauthorized();
    }
    let silence = match Silence::new(spec) {
        Ok(silence) => silence,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    };
    if app.silences.is_full() {
        let full = crate::warnings::silence::SilenceError::Full;
        return (StatusCode::INSUFFICIENT_STORAGE, full.to_string()).into_response();
    }
    // Kept before it takes effect: a silence the service answered for survives a restart.
    if let Some(journal) = app.silences.journal() {
        if let Err(e) = journal.append(&silence.id, &silence.spec).await {
            tracing::warn!(id = %silence.id, error = %e, "silence not recorded");
            return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
        }
    }
    if let Err(e) = app.silences.insert(silence.clone()) {
        return (StatusCode::INSUFFICIENT_STORAGE, e.to_string()).into_response();
    }
    tracing::info!(id = %silence.id, by = %silence.spec.created_by, "silence added");
    (StatusCode::CREATED, Json(silence)).into_response()
}
