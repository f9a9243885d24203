//! The enterprises as the planner and the map see them, at one event time: the planner's
//! input, built by the risk stage and served by the API.

use serde::{Deserialize, Serialize};

use crate::enforce::facts::EnterpriseFacts;
use crate::model::EventTime;

use super::region::RegionIndex;
use super::RiskRecord;

/// The enterprises' risk records and facts at one event time: what a plan is made from
/// (`GET /api/enforcement/snapshot`, or a file).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub at: EventTime,
    pub enterprises: Vec<EnterpriseView>,
    /// The counties' control indices and quota ledgers at the same time.
    #[serde(default)]
    pub counties: Vec<RegionIndex>,
}

/// One enterprise as the planner and the map see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseView {
    pub risk: RiskRecord,
    pub facts: EnterpriseFacts,
}
