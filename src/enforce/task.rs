//! The plan's output: inspection tasks (DOMAIN.md (e) `inspection.task`), the quota ledger of
//! the region, and the deficits raised to the city.

use serde::{Deserialize, Serialize};

use crate::model::EventTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Pool {
    Mandatory,
    SelfCheck,
    HotWork,
    Risk,
}

impl Pool {
    pub fn as_str(self) -> &'static str {
        match self {
            Pool::Mandatory => "MANDATORY",
            Pool::SelfCheck => "SELF_CHECK",
            Pool::HotWork => "HOT_WORK",
            Pool::Risk => "RISK",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    Onsite,
    Video,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Onsite => "ONSITE",
            Mode::Video => "VIDEO",
        }
    }
}

/// How a task was chosen: by rank, or drawn by priority-weighted chance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Selection {
    Mandatory,
    Ranked,
    Random,
}

impl Selection {
    pub fn as_str(self) -> &'static str {
        match self {
            Selection::Mandatory => "MANDATORY",
            Selection::Ranked => "RANKED",
            Selection::Random => "RANDOM",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InspectionTask {
    pub task_id: String,
    pub region_id: String,
    pub enterprise_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub park_id: Option<String>,
    pub pool: Pool,
    pub mode: Mode,
    /// Permit ids, self-inspection report ids and warning ids to look at.
    pub target_refs: Vec<String>,
    /// Why: rule ids, mandatory codes, quota pools and the index's parts.
    pub reason_codes: Vec<String>,
    pub priority: f64,
    pub eri: f64,
    pub color: crate::rules::Color,
    /// Not before (a hot-work check is timed while its permit is active).
    pub not_before: EventTime,
    pub due_by: EventTime,
    pub assigned_team: String,
    pub selection: Selection,
}

/// One pool's quota in the region over the window, with what this plan adds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolLedger {
    pub pool: Pool,
    pub eligible: u32,
    pub required: u32,
    pub done_before: u32,
    pub planned: u32,
    pub deficit: u32,
}

/// A quota this plan cannot meet, raised to the city.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaDeficit {
    pub kind: String,
    pub region_id: String,
    pub pool: Pool,
    pub required: u32,
    pub covered: u32,
    pub shortfall: u32,
    /// `capacity` (the teams cannot do more today) or `not_schedulable` (too few eligible
    /// targets can be visited today).
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub region_id: String,
    pub date: chrono::NaiveDate,
    /// The event time of the state the plan was made from.
    pub state_at: EventTime,
    /// The seed of the priority-weighted draws: the same seed and state give the same list.
    pub seed: u64,
    pub capacity: u32,
    pub teams: u32,
    /// More mandatory tasks than capacity: all are kept.
    pub over_capacity: bool,
    pub tasks: Vec<InspectionTask>,
    pub ledger: Vec<PoolLedger>,
    pub deficits: Vec<QuotaDeficit>,
}
