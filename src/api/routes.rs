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

use super::status::{LiveStatus, StatusReport};

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    store: Arc<StateStore>,
    status: Arc<LiveStatus>,
}

pub fn router(metrics: Arc<Metrics>, store: Arc<StateStore>, status: Arc<LiveStatus>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/api/status", get(status_json))
        .with_state(AppState {
            metrics,
            store,
            status,
        })
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
