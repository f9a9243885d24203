//! The event streams of DOMAIN.md (b), one struct per topic. Every event carries its
//! `enterprise_id`; `region.epidemic` is keyed by its `region_id` instead.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::enums::*;
use super::registry::RegistryChange;
use super::time::{EventDate, EventTime};

/// `sensor.reading`: one value of one indicator. The hot path: strings are borrowed from the
/// input buffer where they have no escapes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorReading<'a> {
    pub ts: EventTime,
    #[serde(borrow)]
    pub enterprise_id: Cow<'a, str>,
    #[serde(borrow)]
    pub target_code: Cow<'a, str>,
    pub value: f64,
    #[serde(default = "default_quality")]
    pub quality: Quality,
    #[serde(default = "default_source")]
    pub source: ReadingSource,
}

fn default_quality() -> Quality {
    Quality::Good
}

fn default_source() -> ReadingSource {
    ReadingSource::Edge
}

/// `sensor.status`: online flag and NE 107 status of a point or a gateway.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorStatus {
    pub ts: EventTime,
    pub enterprise_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_code: Option<String>,
    pub online: bool,
    #[serde(default = "default_ne107")]
    pub ne107: Ne107,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn default_ne107() -> Ne107 {
    Ne107::Normal
}

/// `alarm.lifecycle`: a transition of an alarm raised by the enterprise DCS or the engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmLifecycle {
    pub ts: EventTime,
    pub enterprise_id: String,
    pub alarm_id: String,
    pub target_code: String,
    pub transition: AlarmTransition,
    pub level: AlarmLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
    pub origin: AlarmOrigin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispel_type: Option<DispelType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelved_until: Option<EventTime>,
}

/// `permit.event`: a transition of a special-work permit (GB 30871).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PermitEvent {
    pub ts: EventTime,
    pub permit_id: String,
    pub enterprise_id: String,
    #[serde(rename = "type")]
    pub permit_type: PermitType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot_grade: Option<HotGrade>,
    #[serde(default)]
    pub declared_grade_upgraded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    pub transition: PermitTransition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_start: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_end: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_id: Option<String>,
    #[serde(default)]
    pub worker_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor_credit_code: Option<String>,
    #[serde(default)]
    pub related_permit_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    #[serde(default)]
    pub open_air: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_stream_id: Option<String>,
}

/// `gas.analysis`: one gas sample taken for a permit (GB 30871 5.3, 6.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GasAnalysis {
    pub ts_sample: EventTime,
    pub enterprise_id: String,
    pub permit_id: String,
    pub point_id: String,
    pub method: AnalysisMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_cas: Option<String>,
    /// Lower explosive limit of the analysed gas, % vol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_lel_vol_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conc_vol_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conc_pct_lel: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o2_vol_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toxic_ppm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oel_ppm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyst_id: Option<String>,
}

/// Declared counts of special work in a daily commitment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommitmentCounts {
    pub hot_special: u32,
    pub hot_l1: u32,
    pub hot_l2: u32,
    pub confined: u32,
    pub blind: u32,
    pub height: u32,
    pub lift: u32,
    pub temp_power: u32,
    pub excavate: u32,
    pub road: u32,
    pub maintenance: u32,
    pub contractor: u32,
}

/// `commitment.daily`: the enterprise's daily safety commitment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommitmentDaily {
    pub date: EventDate,
    pub enterprise_id: String,
    pub committed_at: EventTime,
    pub units_total: u32,
    pub units_running: u32,
    pub units_stopped: u32,
    #[serde(default)]
    pub units_startstop: u32,
    #[serde(default)]
    pub trial_production: bool,
    #[serde(default)]
    pub counts: CommitmentCounts,
    pub major_hidden_hazard: bool,
    /// Self-assessed risk level, 1 (highest) to 4.
    pub self_risk_level: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committer: Option<String>,
}

/// The self-inspection submitted before resumption.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelfInspection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<EventTime>,
    pub passed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
}

/// `enterprise.state`: production state and resumption status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseStatus {
    pub ts: EventTime,
    pub enterprise_id: String,
    pub production_state: ProductionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumption_applied_at: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_inspection: Option<SelfInspection>,
    #[serde(default)]
    pub approved_to_resume: bool,
}

/// `enterprise.ops`: load and supply-chain figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseOps {
    pub ts: EventTime,
    pub enterprise_id: String,
    pub throughput_pct_design: f64,
    pub overtime_h_7d: f64,
    pub raw_material_days_cover: f64,
    #[serde(default)]
    pub product_outbound_blocked: bool,
}

/// `staffing.snapshot`: key posts and staff qualification on one day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffingSnapshot {
    pub date: EventDate,
    pub enterprise_id: String,
    pub key_posts_required: u32,
    pub key_posts_filled: u32,
    pub new_or_transferred_n: u32,
    pub on_post_untrained_n: u32,
    pub special_ops_uncertified_n: u32,
    pub headcount_vs_normal_pct: f64,
}

/// `training.record`: one person's training result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub ts: EventTime,
    pub person_id: String,
    pub enterprise_id: String,
    pub course: String,
    pub passed: bool,
}

/// `inventory.level`: quantity held in one storage unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InventoryLevel {
    pub ts: EventTime,
    pub enterprise_id: String,
    pub storage_unit_id: String,
    pub cas: String,
    pub qty_t: f64,
    pub approved_capacity_t: f64,
}

/// `region.epidemic`: the epidemic level of a county from a given time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionEpidemic {
    pub effective_from: EventTime,
    pub region_id: String,
    pub level: EpidemicLevel,
}

/// One finding of an inspection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: FindingSeverity,
}

/// `inspection.result`: the outcome of an on-site, video or document inspection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InspectionResult {
    pub ts: EventTime,
    pub inspection_id: String,
    pub enterprise_id: String,
    pub mode: InspectionMode,
    pub pool: InspectionPool,
    #[serde(default)]
    pub target_refs: Vec<String>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectify_due: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectified_at: Option<EventTime>,
    /// Fine imposed, in yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty: Option<f64>,
}

/// `warning.feedback`: what an organisation did about a warning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WarningFeedback {
    pub ts: EventTime,
    pub enterprise_id: String,
    pub warning_id: String,
    pub actor_org: String,
    pub action: FeedbackAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Any decoded input record.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<'a> {
    Registry(RegistryChange),
    SensorReading(SensorReading<'a>),
    SensorStatus(SensorStatus),
    AlarmLifecycle(Box<AlarmLifecycle>),
    PermitEvent(Box<PermitEvent>),
    GasAnalysis(Box<GasAnalysis>),
    CommitmentDaily(Box<CommitmentDaily>),
    EnterpriseStatus(Box<EnterpriseStatus>),
    EnterpriseOps(EnterpriseOps),
    StaffingSnapshot(StaffingSnapshot),
    TrainingRecord(TrainingRecord),
    InventoryLevel(InventoryLevel),
    RegionEpidemic(RegionEpidemic),
    InspectionResult(Box<InspectionResult>),
    WarningFeedback(WarningFeedback),
}

impl Event<'_> {
    /// The event time (`None` for reference data, which is not on the event-time clock).
    pub fn event_time(&self) -> Option<EventTime> {
        Some(match self {
            Event::Registry(_) => return None,
            Event::SensorReading(e) => e.ts,
            Event::SensorStatus(e) => e.ts,
            Event::AlarmLifecycle(e) => e.ts,
            Event::PermitEvent(e) => e.ts,
            Event::GasAnalysis(e) => e.ts_sample,
            Event::CommitmentDaily(e) => e.committed_at,
            Event::EnterpriseStatus(e) => e.ts,
            Event::EnterpriseOps(e) => e.ts,
            Event::StaffingSnapshot(e) => e.date.start(),
            Event::TrainingRecord(e) => e.ts,
            Event::InventoryLevel(e) => e.ts,
            Event::RegionEpidemic(e) => e.effective_from,
            Event::InspectionResult(e) => e.ts,
            Event::WarningFeedback(e) => e.ts,
        })
    }

    /// The id the event must be keyed by: its enterprise, or its region for
    /// `region.epidemic`. `None` for registry changes, whose key is checked on decode.
    pub fn key_id(&self) -> Option<&str> {
        Some(match self {
            Event::Registry(_) => return None,
            Event::SensorReading(e) => &e.enterprise_id,
            Event::SensorStatus(e) => &e.enterprise_id,
            Event::AlarmLifecycle(e) => &e.enterprise_id,
            Event::PermitEvent(e) => &e.enterprise_id,
            Event::GasAnalysis(e) => &e.enterprise_id,
            Event::CommitmentDaily(e) => &e.enterprise_id,
            Event::EnterpriseStatus(e) => &e.enterprise_id,
            Event::EnterpriseOps(e) => &e.enterprise_id,
            Event::StaffingSnapshot(e) => &e.enterprise_id,
            Event::TrainingRecord(e) => &e.enterprise_id,
            Event::InventoryLevel(e) => &e.enterprise_id,
            Event::RegionEpidemic(e) => &e.region_id,
            Event::InspectionResult(e) => &e.enterprise_id,
            Event::WarningFeedback(e) => &e.enterprise_id,
        })
    }
}
