//! The HTTP API (axum): `/metrics`, `/healthz`, `/readyz`, `/api/status`, the warnings
//! (`/api/warnings`, `/api/warnings/{id}`, `/api/warnings/stream`, `/api/warnings/kpis`) and
//! silences (`/api/silences`).

mod routes;
mod status;
mod warnings;

pub use routes::{router, serve, AppState};
pub use status::{LiveStatus, StatusReport};
