//! What the handlers share.

use std::sync::Arc;

use crate::metrics::Metrics;
use crate::state::StateStore;
use crate::warnings::view::WarningView;
use crate::warnings::Silences;

use super::auth::Tokens;
use super::sse::SseSlots;
use super::status::LiveStatus;

/// The handlers' shared state.
#[derive(Clone)]
pub struct AppState {
    pub metrics: Arc<Metrics>,
    pub store: Arc<StateStore>,
    pub status: Arc<LiveStatus>,
    pub warnings: Arc<WarningView>,
    pub silences: Arc<Silences>,
    pub risk: Arc<crate::risk::RiskView>,
    pub config: Arc<crate::config::Config>,
    /// The bearer tokens: reads (`api.read_token`) and writes (`api.write_token`, or
    /// `warnings.api_token`); an empty write token turns writes off.
    pub tokens: Tokens,
    /// The key of the plans' default seed (`enforce.seed_key`).
    pub seed_key: Arc<[u8]>,
    /// The open event streams, at most `api.max_sse_clients`.
    pub sse: Arc<SseSlots>,
    /// County outlines for the map (`map.boundaries`), checked at start-up.
    pub boundaries: Arc<super::boundaries::Boundaries>,
}
