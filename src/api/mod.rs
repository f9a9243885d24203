//! The HTTP API (axum): `/metrics`, `/healthz`, `/readyz`, `/api/status`.

mod routes;
mod status;

pub use routes::{router, serve};
pub use status::{LiveStatus, StatusReport};
