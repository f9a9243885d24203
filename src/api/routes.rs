//! Routes and the server.

use std::sync::Arc;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::error::IoError;

use super::auth;
use super::state::AppState;
use super::status::StatusReport;
use super::{map, risk, warnings};

/// Requests served at once and how long one may take (the response head; an event stream's
/// body flows on).
#[derive(Clone)]
struct RequestLimits {
    in_flight: Arc<Semaphore>,
    timeout: Duration,
}

/// 503 when `api.max_concurrent_requests` are being served, 503 past `api.request_timeout`:
/// a flood of slow requests cannot take every worker or every socket.
async fn limit_requests(
    State(limits): State<RequestLimits>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(_permit) = limits.in_flight.try_acquire() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "too many requests in flight (api.max_concurrent_requests)",
        )
            .into_response();
    };
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "no answer within {:?} (api.request_timeout)",
                limits.timeout
            ),
        )
            .into_response(),
    }
}

pub fn router(state: AppState) -> Router {
    let api = &state.config.api;
    let limits = RequestLimits {
        in_flight: Arc::new(Semaphore::new(api.max_concurrent_requests.max(1))),
        timeout: api.request_timeout,
    };
    let body_limit = DefaultBodyLimit::max(api.max_body_bytes);
    let tokens = state.tokens.clone();
    Router::new()
        .route("/", get(map::page))
        .route("/map.js", get(map::script))
        .route("/map.css", get(map::style))
        .route("/vendor/{name}", get(map::vendor))
        .route("/api/map", get(map::shapes))
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/api/status", get(status_json))
        .route("/api/warnings", get(warnings::list))
        .route("/api/warnings/stream", get(warnings::stream))
        .route("/api/warnings/kpis", get(warnings::kpis))
        .route("/api/warnings/{id}", get(warnings::one))
        .route(
            "/api/silences",
            get(warnings::silences).post(warnings::add_silence),
        )
        .route("/api/risk", get(risk::list))
        .route("/api/risk/stream", get(risk::stream))
        .route("/api/risk/{id}", get(risk::one))
        .route("/api/regions", get(risk::regions))
        .route("/api/enforcement/snapshot", get(risk::snapshot))
        .route("/api/enforcement/plan", get(risk::enforcement_plan))
        .with_state(state)
        .layer(middleware::from_fn_with_state(tokens, auth::require_read))
        .layer(body_limit)
        .layer(middleware::from_fn_with_state(limits, limit_requests))
}

/// Serves until `shutdown`, over plain TCP or TLS (`super::tls::TlsListener`).
pub async fn serve<L>(
    listener: L,
    router: Router,
    shutdown: CancellationToken,
) -> Result<(), IoError>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .map_err(IoError::Http)
}

async fn metrics_text(State(app): State<AppState>) -> impl IntoResponse {
    app.metrics.set_state_size(&app.store.size());
    app.metrics.silences.set(app.silences.len() as i64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}

async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    match app.status.readiness() {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
    }
}

async fn status_json(State(app): State<AppState>) -> Json<StatusReport> {
    Json(StatusReport::collect(&app.metrics, &app.store, &app.status))
}
