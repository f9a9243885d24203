//! The HTTP API (axum): `/metrics`, `/healthz`, `/readyz`, `/api/status`, the warnings
//! (`/api/warnings`, `/api/warnings/{id}`, `/api/warnings/stream`, `/api/warnings/kpis`) and
//! silences (`/api/silences`), the risk picture (`/api/risk`, `/api/risk/{id}`,
//! `/api/risk/stream`, `/api/regions`), the planner (`/api/enforcement/snapshot`,
//! `/api/enforcement/plan`) and the four-colour map at `/`.

pub mod auth;
pub mod boundaries;
mod map;
mod risk;
mod routes;
mod sse;
mod state;
mod status;
pub mod tls;
mod warnings;

pub use routes::{router, serve};
pub use sse::SseSlots;
pub use state::AppState;
pub use status::{LiveStatus, StatusReport};
