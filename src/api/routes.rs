//! Routes and the server.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tokio_util::sync::CancellationToken;

use crate::error::IoError;
use crate::metrics::Metrics;
use crate::state::StateStore;

use crate::warnings::view::WarningView;
use crate::warnings::Silences;

use super::status::{LiveStatus, StatusReport};
use super::{map, risk, warnings};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub metrics: Arc<Metrics>,
    pub store: Arc<StateStore>,
    pub status: Arc<LiveStatus>,
    pub warnings: Arc<WarningView>,
    pub silences: Arc<Silences>,
    pub risk: Arc<crate::risk::RiskView>,
    pub config: Arc<crate::config::Config>,
    /// The bearer token of `POST /api/silences`; empty turns it off.
    pub api_token: Arc<str>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(map::page))
        .route("/map.js", get(map::script))
        .route("/map.css", get(map::style))
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
}

/// Serves until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> Result<(), IoError> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .map_err(IoError::Http)
}

async fn metrics_text(State(app): State<AppState>) -> impl IntoResponse {
    app.metrics.set_state_size(&app.store.size());
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
