//! Every enterprise's risk index over time. Fed once per tick, after the warnings: the warning
//! records of the tick, then the state. An enterprise is recomputed when its state (other than
//! readings) or its warnings changed, and at least every `refresh` of event time; a record is
//! published when what it says changed. Deterministic, so replay gives what live gave.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::enforce::facts::{self, EnterpriseFacts, FactsContext};
use crate::model::EventTime;
use crate::state::{EnterpriseState, StateStore};
use crate::warnings::WarningRecord;

use super::color::{band, ColorState};
use super::config::RiskConfig;
use super::history::IndexHistory;
use super::inputs::{gather, night_and_holiday, points_offline, GatherContext};
use super::ledger::WarningLedger;
use super::online::OnlineHistory;
use super::record::RiskRecord;
use super::score::score;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Tracked {
    /// When the book first saw the enterprise.
    known_since: EventTime,
    business_version: u64,
    facts: EnterpriseFacts,
    computed_at: EventTime,
    color: ColorState,
    online: OnlineHistory,
    published: RiskRecord,
    /// The index over the last day (older checkpoints have none).
    #[serde(default)]
    history: IndexHistory,
}

/// The book's part of a partition checkpoint: the colours (with their hysteresis clocks), last
/// published records, offline histories and warning facts of its enterprises.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct RiskSnapshot {
    tracked: Vec<(String, Tracked)>,
    warnings: Vec<(String, super::ledger::EnterpriseWarnings)>,
}

pub struct RiskBook {
    config: RiskConfig,
    utc_offset_minutes: i32,
    ledger: WarningLedger,
    tracked: BTreeMap<String, Tracked>,
    /// Enterprises whose warnings changed since the last update.
    touched: HashSet<String>,
}

impl RiskBook {
    pub fn new(config: &RiskConfig, utc_offset_minutes: i32) -> Self {
        RiskBook {
            ledger: WarningLedger::new(config.region.window),
            config: config.clone(),
            utc_offset_minutes,
            tracked: BTreeMap::new(),
            touched: HashSet::new(),
        }
    }

    /// Folds in a tick's warning records; the service's own (no enterprise) concern no index.
    pub fn observe(&mut self, records: &[WarningRecord]) {
        for record in records.iter().filter(|r| !r.enterprise_id.is_empty()) {
            let enterprise = self.ledger.observe(record);
            self.touched.insert(enterprise.to_owned());
        }
    }

    /// Recomputes the enterprises that are due at `now`; returns the records that changed.
    pub fn update(&mut self, now: EventTime, store: &StateStore) -> Vec<RiskRecord> {
        let mut out = Vec::new();
        for partition in store.partitions() {
            for entry in partition.enterprises.iter() {
                if let Some(record) = self.update_one(entry.value(), now, store) {
                    out.push(record);
                }
            }
        }
        self.touched.clear();
        out.sort_by(|a, b| a.enterprise_id.cmp(&b.enterprise_id));
        out
    }

    fn is_due(&self, e: &EnterpriseState, now: EventTime) -> bool {
        let Some(t) = self.tracked.get(e.enterprise_id.as_str()) else {
            return true;
        };
        t.business_version != e.business_version
            || self.touched.contains(e.enterprise_id.as_str())
            || now.millis() - t.computed_at.millis() >= self.config.refresh.as_millis() as i64
    }

    fn update_one(
        &mut self,
        e: &EnterpriseState,
        now: EventTime,
        store: &StateStore,
    ) -> Option<RiskRecord> {
        let profile = e.profile.as_ref()?;
        if !self.is_due(e, now) {
            return None;
        }
        let id = e.enterprise_id.to_string();
        let mut previous = self.tracked.remove(&id);
        let known_since = previous.as_ref().map_or(now, |t| t.known_since);
        let (points, offline) = points_offline(e, now, known_since);
        let mut online = previous
            .as_mut()
            .map(|t| std::mem::take(&mut t.online))
            .unwrap_or_default();
        let mut history = previous
            .as_mut()
            .map(|t| std::mem::take(&mut t.history))
            .unwrap_or_default();
        let share = if points == 0 {
            0.0
        } else {
            f64::from(offline) / f64::from(points)
        };
        online.sample(
            now,
            share,
            self.config.alarms.window.as_millis() as i64,
            self.config.region.window.as_millis() as i64,
        );
        let ctx = GatherContext {
            now,
            config: &self.config,
            utc_offset_minutes: self.utc_offset_minutes,
            epidemic: store.regions.level_at(&profile.region_id, now),
            points: (points, offline),
            offline_share: online.recent_share(),
        };
        let inputs = gather(e, self.ledger.of(&id), &ctx);
        let mut facts = self.facts(e, now, ctx.epidemic);
        let scored = score(&inputs, &self.config);
        let bands = &self.config.bands;
        let color = match &previous {
            Some(t) => {
                facts.remember(&t.facts);
                let mut c = t.color.clone();
                c.step(scored.eri, scored.floor.as_ref(), now, bands);
                c
            }
            None => ColorState::first(scored.eri, scored.floor.as_ref(), now, bands),
        };
        history.record(now, scored.eri, color.color);
        let record = RiskRecord {
            enterprise_id: id.clone(),
            name: profile.name.clone(),
            region_id: profile.region_id.clone(),
            city_id: profile.city_id.clone(),
            park_id: profile.park_id.clone(),
            lat: profile.lat,
            lon: profile.lon,
            at: now.to_rfc3339(),
            eri: scored.eri,
            color: color.color,
            band: band(scored.eri, bands),
            floor: scored.floor,
            color_since: color.since.to_rfc3339(),
            downgrade_pending_since: color.downgrade_pending_since.map(EventTime::to_rfc3339),
            weights_version: self.config.weights_version.clone(),
            terms: scored.terms,
            inputs,
        };
        // What readers have seen stays until what it says changes.
        let (published, changed) = match previous {
            Some(t) if !t.published.differs(&record) => (t.published, false),
            _ => (record.clone(), true),
        };
        self.tracked.insert(
            id,
            Tracked {
                known_since,
                business_version: e.business_version,
                facts,
                computed_at: now,
                color,
                online,
                published,
                history,
            },
        );
        changed.then_some(record)
    }

    fn facts(
        &self,
        e: &EnterpriseState,
        now: EventTime,
        epidemic: Option<crate::model::EpidemicLevel>,
    ) -> EnterpriseFacts {
        let (context, offset) = (&self.config.context, self.utc_offset_minutes);
        let is_night_or_holiday = |at: EventTime| {
            let (night, holiday) = night_and_holiday(at, context, offset);
            night || holiday
        };
        let ctx = FactsContext {
            now,
            window_ms: self.config.region.window.as_millis() as i64,
            is_night_or_holiday: &is_night_or_holiday,
            epidemic,
        };
        facts::gather(e, self.ledger.of(&e.enterprise_id), &ctx)
    }

    /// What a checkpoint of `enterprises` holds of the book.
    pub fn checkpoint(&self, enterprises: &BTreeSet<String>) -> RiskSnapshot {
        RiskSnapshot {
            tracked: enterprises
                .iter()
                .filter_map(|e| Some((e.clone(), self.tracked.get(e)?.clone())))
                .collect(),
            warnings: self.ledger.of_many(enterprises),
        }
    }

    /// Takes over a restored partition's enterprises as they were (nothing is published).
    pub fn restore(&mut self, snapshot: RiskSnapshot) {
        self.tracked.extend(snapshot.tracked);
        self.ledger.restore(snapshot.warnings);
    }

    /// Forgets `enterprises`: another instance now computes them.
    pub fn forget(&mut self, enterprises: &BTreeSet<String>) {
        self.tracked.retain(|e, _| !enterprises.contains(e));
        self.ledger.forget(enterprises);
        self.touched.retain(|e| !enterprises.contains(e));
    }

    /// Every enterprise's latest published record with its enforcement facts.
    pub fn snapshot(&self) -> impl Iterator<Item = (&RiskRecord, &EnterpriseFacts)> {
        self.tracked.values().map(|t| (&t.published, &t.facts))
    }

    /// An enterprise's index over the last day.
    pub fn history(&self, enterprise_id: &str) -> Option<&IndexHistory> {
        self.tracked.get(enterprise_id).map(|t| &t.history)
    }

    /// The latest published record of every enterprise.
    pub fn records(&self) -> impl Iterator<Item = &RiskRecord> {
        self.tracked.values().map(|t| &t.published)
    }

    /// Mean share of points offline over the region window, per enterprise.
    pub fn long_offline_share(&self, enterprise_id: &str) -> Option<f64> {
        self.tracked
            .get(enterprise_id)
            .map(|t| t.online.long_share())
    }

    pub fn ledger(&self) -> &WarningLedger {
        &self.ledger
    }

    pub fn config(&self) -> &RiskConfig {
        &self.config
    }
}
