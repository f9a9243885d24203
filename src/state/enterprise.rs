//! Everything vigil knows about one enterprise: reference data, live indicators, permits,
//! gas analyses, status, operations, people, inventory, commitments, inspections, feedback.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;

use crate::model::*;
use crate::monitor::{IndicatorBaseline, MonitorModel};

use super::indicator::{IndicatorState, LastReading, PointStatus};
use super::inputs::InputLog;
use super::limits::StateLimits;
use super::log::TimedLog;
use super::monitor::UnitMonitor;
use super::parts::{Part, PartVersions};
use super::permit::{self, PermitState};
use super::Key;

/// Why the state refused an event it could decode.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateRejection {
    /// The reading names an indicator the registry has not (yet) described.
    #[error("indicator {0} is not in the registry")]
    UnknownIndicator(String),
    /// The permit cannot make this transition from its current phase.
    #[error("permit {permit_id}: {transition} cannot follow {phase}")]
    ImpossibleTransition {
        permit_id: String,
        transition: &'static str,
        phase: &'static str,
    },
    /// A bounded collection is full of entries that cannot be evicted.
    #[error("{0} is full")]
    CapacityExceeded(&'static str),
    /// The value cannot be physical for this indicator.
    #[error("{0}")]
    NotPhysical(String),
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlarmState {
    pub latest: AlarmLifecycle,
    pub raised_at: EventTime,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnterpriseState {
    pub enterprise_id: Key,
    pub profile: Option<Enterprise>,
    pub hazard_units: HashMap<String, HazardUnit>,
    pub equipment: HashMap<String, Equipment>,
    pub areas: HashMap<String, Area>,
    pub indicators: FxHashMap<Key, IndicatorState>,
    pub gateways: HashMap<String, PointStatus>,
    pub alarms: HashMap<String, AlarmState>,
    /// Recent alarm transitions, for the alarm-hygiene rules (R6).
    pub alarm_log: TimedLog<AlarmLifecycle>,
    pub permits: HashMap<String, PermitState>,
    pub analyses: HashMap<String, TimedLog<GasAnalysis>>,
    pub status: TimedLog<EnterpriseStatus>,
    /// When the enterprise last went from shut down to starting up or running.
    pub resumed_at: Option<EventTime>,
    pub ops: TimedLog<EnterpriseOps>,
    pub staffing: TimedLog<StaffingSnapshot>,
    pub training: TimedLog<TrainingRecord>,
    pub inventory: HashMap<String, TimedLog<InventoryLevel>>,
    pub commitments: TimedLog<CommitmentDaily>,
    pub inspections: TimedLog<InspectionResult>,
    pub feedback: TimedLog<WarningFeedback>,
    /// Where the recent input came from, for warnings' provenance.
    pub inputs: InputLog,
    /// Monitored units by model id (`monitor_model` registry records).
    #[serde(default)]
    pub monitors: BTreeMap<String, UnitMonitor>,
    /// Indicators' baselines of normal operation by target code (`indicator_baseline`
    /// records), kept apart from the indicators: either record may come first, and an
    /// indicator's registry update keeps its baseline.
    #[serde(default)]
    pub baselines: BTreeMap<String, IndicatorBaseline>,
    /// Newest event time applied.
    pub last_event: EventTime,
    /// Bumped on every change, so readers can tell what changed since they last looked.
    pub version: u64,
    /// Bumped with the part each change touched (older checkpoints have none: zeros).
    #[serde(default)]
    pub part_versions: PartVersions,
    /// Bumped on every change but a reading: what the risk index reads besides the live
    /// values (which it samples on its own clock).
    pub business_version: u64,
}

/// The entry for `key`, created with `make` unless the map already holds `cap` others.
fn bounded_entry<'m, V>(
    map: &'m mut HashMap<String, V>,
    key: &str,
    cap: usize,
    what: &'static str,
    make: impl FnOnce() -> V,
) -> Result<&'m mut V, StateRejection> {
    room_for(map.contains_key(key), map.len(), cap, what)?;
    Ok(map.entry(key.to_owned()).or_insert_with(make))
}

/// A table of `len` entries takes one more (unless it replaces one it `has`) below `cap`.
fn room_for(has: bool, len: usize, cap: usize, what: &'static str) -> Result<(), StateRejection> {
    if !has && len >= cap {
        return Err(StateRejection::CapacityExceeded(what));
    }
    Ok(())
}

/// The part of the state an event (other than a reading or a registry change) touches.
fn part_of(event: &Event<'_>) -> Part {
    match event {
        Event::SensorReading(_) | Event::SensorStatus(_) => Part::Sensors,
        Event::AlarmLifecycle(_) => Part::Alarms,
        Event::PermitEvent(_) | Event::GasAnalysis(_) => Part::Permits,
        Event::Registry(_) => Part::Registry,
        Event::CommitmentDaily(_)
        | Event::EnterpriseStatus(_)
        | Event::EnterpriseOps(_)
        | Event::StaffingSnapshot(_)
        | Event::TrainingRecord(_)
        | Event::InventoryLevel(_)
        | Event::RegionEpidemic(_)
        | Event::InspectionResult(_)
        | Event::WarningFeedback(_) => Part::Business,
    }
}

fn history<T>(limits: &StateLimits) -> TimedLog<T> {
    TimedLog::new(limits.history_len, limits.history_age_ms())
}

impl EnterpriseState {
    pub fn new(enterprise_id: &str, limits: &StateLimits) -> Self {
        EnterpriseState {
            enterprise_id: enterprise_id.into(),
            profile: None,
            hazard_units: HashMap::new(),
            equipment: HashMap::new(),
            areas: HashMap::new(),
            indicators: FxHashMap::default(),
            gateways: HashMap::new(),
            alarms: HashMap::new(),
            alarm_log: history(limits),
            permits: HashMap::new(),
            analyses: HashMap::new(),
            status: history(limits),
            resumed_at: None,
            ops: history(limits),
            staffing: history(limits),
            training: history(limits),
            inventory: HashMap::new(),
            commitments: history(limits),
            inspections: history(limits),
            feedback: history(limits),
            inputs: InputLog::default(),
            monitors: BTreeMap::new(),
            baselines: BTreeMap::new(),
            last_event: EventTime::MIN,
            version: 0,
            part_versions: PartVersions::default(),
            business_version: 0,
        }
    }

    fn touch(&mut self, part: Part, at: Option<EventTime>) {
        self.version += 1;
        self.part_versions.bump(part);
        if let Some(at) = at {
            self.last_event = self.last_event.max(at);
        }
    }

    /// Applies a reading of a known indicator (the hot path).
    pub fn apply_reading(
        &mut self,
        reading: &SensorReading<'_>,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        let indicator = self
            .indicators
            .get_mut(reading.target_code.as_ref())
            .ok_or_else(|| StateRejection::UnknownIndicator(reading.target_code.to_string()))?;
        physical::check_reading(indicator.def.kind, &indicator.def.unit, reading.value)
            .map_err(StateRejection::NotPhysical)?;
        indicator.record(
            LastReading {
                ts: reading.ts,
                value: reading.value,
                quality: reading.quality,
                source: reading.source,
            },
            limits.horizon_minutes(),
        );
        let mut scored = false;
        if reading.quality == Quality::Good {
            for monitor in self.monitors.values_mut() {
                scored |= monitor.observe(&reading.target_code, reading.ts, reading.value);
            }
        }
        if scored {
            self.part_versions.bump(Part::Monitors);
        }
        self.touch(Part::Sensors, Some(reading.ts));
        Ok(())
    }

    pub fn has_indicator(&self, target_code: &str) -> bool {
        self.indicators.contains_key(target_code)
    }

    /// Applies any event but a reading or a registry change.
    pub fn apply(&mut self, event: &Event<'_>, limits: &StateLimits) -> Result<(), StateRejection> {
        match event {
            Event::SensorReading(r) => return self.apply_reading(r, limits),
            Event::SensorStatus(s) => self.apply_status(s, limits)?,
            Event::AlarmLifecycle(a) => self.apply_alarm(a, limits)?,
            Event::PermitEvent(p) => self.apply_permit(p, limits)?,
            Event::GasAnalysis(g) => self.apply_analysis(g, limits)?,
            Event::EnterpriseStatus(s) => self.apply_enterprise_status(s),
            Event::EnterpriseOps(o) => self.ops.push(o.ts, o.clone()),
            Event::StaffingSnapshot(s) => self.staffing.push(s.date.start(), s.clone()),
            Event::TrainingRecord(t) => self.training.push(t.ts, t.clone()),
            Event::InventoryLevel(i) => self.apply_inventory(i, limits)?,
            Event::CommitmentDaily(c) => self.commitments.push(c.committed_at, (**c).clone()),
            Event::InspectionResult(i) => self.inspections.push(i.ts, (**i).clone()),
            Event::WarningFeedback(f) => self.feedback.push(f.ts, f.clone()),
            Event::Registry(_) | Event::RegionEpidemic(_) => return Ok(()),
        }
        self.touch(part_of(event), event.event_time());
        self.business_version += 1;
        Ok(())
    }

    fn apply_status(
        &mut self,
        s: &SensorStatus,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        if let Some(code) = &s.target_code {
            let indicator = self
                .indicators
                .get_mut(code.as_str())
                .ok_or_else(|| StateRejection::UnknownIndicator(code.clone()))?;
            indicator.set_status(PointStatus::from(s));
        }
        if let Some(gateway) = &s.gateway_code {
            let cap = limits.max_gateways_per_enterprise;
            *bounded_entry(&mut self.gateways, gateway, cap, "gateway table", || {
                PointStatus::from(s)
            })? = PointStatus::from(s);
        }
        Ok(())
    }

    fn apply_alarm(
        &mut self,
        a: &AlarmLifecycle,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        if !self.alarms.contains_key(&a.alarm_id) {
            self.evict_cleared_alarms(a.ts, limits);
            if self.alarms.len() >= limits.max_alarms_per_enterprise {
                return Err(StateRejection::CapacityExceeded("alarm table"));
            }
        }
        let raised_at = match self.alarms.get(&a.alarm_id) {
            Some(prev) if a.transition != AlarmTransition::Raise => prev.raised_at,
            _ => a.ts,
        };
        self.alarm_log.push(a.ts, a.clone());
        self.alarms.insert(
            a.alarm_id.clone(),
            AlarmState {
                latest: a.clone(),
                raised_at,
            },
        );
        Ok(())
    }

    fn evict_cleared_alarms(&mut self, now: EventTime, limits: &StateLimits) {
        let keep_ms = limits.cleared_alarm_retention.as_millis() as i64;
        self.alarms.retain(|_, alarm| {
            alarm.latest.transition != AlarmTransition::Clear
                || now.millis() - alarm.latest.ts.millis() <= keep_ms
        });
    }

    fn apply_permit(
        &mut self,
        p: &PermitEvent,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        let phase = self.permits.get(&p.permit_id).map(|s| s.phase);
        if !permit::is_possible(phase, p.transition) {
            return Err(StateRejection::ImpossibleTransition {
                permit_id: p.permit_id.clone(),
                transition: p.transition.as_str(),
                phase: phase.map_or("nothing", |ph| ph.as_str()),
            });
        }
        match self.permits.get_mut(&p.permit_id) {
            Some(state) => state.apply(p.clone(), limits.max_transitions_per_permit),
            None => {
                self.make_room_for_permit(p.ts, limits)?;
                self.permits
                    .insert(p.permit_id.clone(), PermitState::new(p.clone()));
            }
        }
        Ok(())
    }

    fn make_room_for_permit(
        &mut self,
        now: EventTime,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        let keep_ms = limits.closed_permit_retention.as_millis() as i64;
        let analyses = &mut self.analyses;
        self.permits.retain(|id, permit| {
            let keep =
                !permit.phase.is_terminal() || now.millis() - permit.since().millis() <= keep_ms;
            if !keep {
                analyses.remove(id);
            }
            keep
        });
        if self.permits.len() >= limits.max_permits_per_enterprise {
            return Err(StateRejection::CapacityExceeded("permit table"));
        }
        Ok(())
    }

    fn apply_analysis(
        &mut self,
        g: &GasAnalysis,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        let retention_ms = limits.analysis_retention.as_millis() as i64;
        let cap = limits.max_permits_per_enterprise;
        bounded_entry(
            &mut self.analyses,
            &g.permit_id,
            cap,
            "gas analysis table",
            || TimedLog::new(limits.max_analyses_per_permit, retention_ms),
        )?
        .push(g.ts_sample, g.clone());
        Ok(())
    }

    fn apply_enterprise_status(&mut self, s: &EnterpriseStatus) {
        use ProductionState as P;
        let was_down = self
            .status
            .latest()
            .is_none_or(|prev| matches!(prev.production_state, P::Shutdown | P::PreStartCheck));
        let is_up = matches!(s.production_state, P::Startup | P::Running | P::Trial);
        if was_down && is_up && self.status.latest().is_some() {
            self.resumed_at = Some(s.ts);
        }
        self.status.push(s.ts, s.clone());
    }

    fn apply_inventory(
        &mut self,
        i: &InventoryLevel,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        let cap = limits.max_storage_units_per_enterprise;
        bounded_entry(
            &mut self.inventory,
            &i.storage_unit_id,
            cap,
            "storage unit table",
            || history(limits),
        )?
        .push(i.ts, i.clone());
        Ok(())
    }

    /// Applies an upsert or a deletion of reference data that belongs to this enterprise.
    pub fn apply_registry(
        &mut self,
        change: &RegistryChange,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        match change {
            RegistryChange::Enterprise(e) => self.profile = Some((**e).clone()),
            RegistryChange::HazardUnit(h) => {
                self.hazard_units.insert(h.hazard_id.clone(), (**h).clone());
            }
            RegistryChange::Equipment(e) => {
                self.equipment.insert(e.equip_id.clone(), (**e).clone());
            }
            RegistryChange::Area(a) => {
                self.areas.insert(a.area_id.clone(), (**a).clone());
            }
            RegistryChange::Indicator(i) => self.upsert_indicator(i, limits)?,
            RegistryChange::MonitorModel(m) => self.upsert_monitor(m, limits)?,
            RegistryChange::IndicatorBaseline(b) => self.upsert_baseline(b, limits)?,
            RegistryChange::Deleted { entity, id } => self.delete(*entity, id),
        }
        self.touch(Part::Registry, None);
        self.business_version += 1;
        Ok(())
    }

    fn upsert_indicator(
        &mut self,
        def: &Indicator,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        if let Some(existing) = self.indicators.get_mut(def.target_code.as_str()) {
            existing.def = def.clone();
            return Ok(());
        }
        room_for(
            false,
            self.indicators.len(),
            limits.max_indicators_per_enterprise,
            "indicator table",
        )?;
        let state = IndicatorState::new(def.clone());
        self.indicators
            .insert(def.target_code.as_str().into(), state);
        Ok(())
    }

    /// A new or changed model starts its unit's monitoring afresh: samples scored under the
    /// old one say nothing about the new one's limits.
    fn upsert_monitor(
        &mut self,
        model: &MonitorModel,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        if self
            .monitors
            .get(&model.model_id)
            .is_some_and(|m| m.model == *model)
        {
            return Ok(());
        }
        room_for(
            self.monitors.contains_key(&model.model_id),
            self.monitors.len(),
            limits.max_monitors_per_enterprise,
            "monitor model table",
        )?;
        self.monitors
            .insert(model.model_id.clone(), UnitMonitor::new(model.clone()));
        Ok(())
    }

    /// At most one baseline per indicator an enterprise may have.
    fn upsert_baseline(
        &mut self,
        baseline: &IndicatorBaseline,
        limits: &StateLimits,
    ) -> Result<(), StateRejection> {
        room_for(
            self.baselines.contains_key(&baseline.target_code),
            self.baselines.len(),
            limits.max_indicators_per_enterprise,
            "indicator baseline table",
        )?;
        self.baselines
            .insert(baseline.target_code.clone(), baseline.clone());
        Ok(())
    }

    fn delete(&mut self, entity: EntityKind, id: &str) {
        match entity {
            EntityKind::Enterprise => self.profile = None,
            EntityKind::HazardUnit => drop(self.hazard_units.remove(id)),
            EntityKind::Equipment => drop(self.equipment.remove(id)),
            EntityKind::Indicator => drop(self.indicators.remove(id)),
            EntityKind::Area => drop(self.areas.remove(id)),
            EntityKind::MonitorModel => drop(self.monitors.remove(id)),
            EntityKind::IndicatorBaseline => drop(self.baselines.remove(id)),
        }
    }
}
