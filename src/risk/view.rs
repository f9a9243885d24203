//! The risk picture as the API and the map serve it: every enterprise's latest record with its
//! enforcement facts, the county and city indices, and a broadcast of changes for the map's
//! server-sent events. Written by the rules task after each tick, read by the API.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::model::{EventTime, Published};

use super::history::{IndexHistory, IndexPoint};
use super::region::{CityIndex, RegionIndex};
use super::snapshot::{EnterpriseView, Snapshot};
use super::stage::RiskStage;
use super::RiskRecord;

/// Changes the stream buffers for a slow subscriber before it skips.
const STREAM_BUFFER: usize = 4_096;

/// A change on the map.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RiskChange {
    Enterprise(Box<RiskRecord>),
    Regions {
        counties: Vec<RegionIndex>,
        cities: Vec<CityIndex>,
    },
}

#[derive(Default)]
struct Inner {
    at: EventTime,
    enterprises: BTreeMap<String, EnterpriseView>,
    /// Each enterprise's index over the last day, as of its newest published record (or the
    /// last refresh).
    history: BTreeMap<String, Vec<IndexPoint>>,
    counties: Vec<RegionIndex>,
    cities: Vec<CityIndex>,
}

pub struct RiskView {
    inner: RwLock<Inner>,
    stream: broadcast::Sender<Arc<Published<RiskChange>>>,
}

impl Default for RiskView {
    fn default() -> Self {
        RiskView {
            inner: RwLock::default(),
            stream: broadcast::channel(STREAM_BUFFER).0,
        }
    }
}

impl RiskView {
    /// Shows what a tick of `stage` changed.
    pub fn publish(&self, stage: &RiskStage, tick: &super::stage::RiskTick) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.at = tick.now;
        if tick.regions.is_some() {
            // Facts move with every refresh (permits, inspections): take them all then.
            inner.enterprises = stage
                .book
                .snapshot()
                .map(|(risk, facts)| {
                    let view = EnterpriseView {
                        risk: risk.clone(),
                        facts: facts.clone(),
                    };
                    (risk.enterprise_id.clone(), view)
                })
                .collect();
            inner.history = inner
                .enterprises
                .keys()
                .filter_map(|id| Some((id.clone(), points(stage.book.history(id)?))))
                .collect();
        } else {
            for record in &tick.records {
                if let Some(history) = stage.book.history(&record.enterprise_id) {
                    inner
                        .history
                        .insert(record.enterprise_id.clone(), points(history));
                }
                let facts = inner
                    .enterprises
                    .get(&record.enterprise_id)
                    .map(|v| v.facts.clone())
                    .unwrap_or_default();
                let view = EnterpriseView {
                    risk: record.clone(),
                    facts,
                };
                inner.enterprises.insert(record.enterprise_id.clone(), view);
            }
        }
        for record in &tick.records {
            // No subscriber is fine: the stream is best effort, the lists are the truth.
            let _ = self
                .stream
                .send(Arc::new(Published::new(RiskChange::Enterprise(Box::new(
                    record.clone(),
                )))));
        }
        if let Some((counties, cities)) = &tick.regions {
            inner.counties.clone_from(counties);
            inner.cities.clone_from(cities);
            let _ = self
                .stream
                .send(Arc::new(Published::new(RiskChange::Regions {
                    counties: counties.clone(),
                    cities: cities.clone(),
                })));
        }
    }

    /// Every enterprise's record and facts, for the planner.
    pub fn snapshot(&self) -> Snapshot {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        Snapshot {
            at: inner.at,
            enterprises: inner.enterprises.values().cloned().collect(),
            counties: inner.counties.clone(),
        }
    }

    pub fn enterprises(&self) -> Vec<EnterpriseView> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.enterprises.values().cloned().collect()
    }

    pub fn enterprise(&self, id: &str) -> Option<EnterpriseView> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.enterprises.get(id).cloned()
    }

    /// An enterprise's index over the last day.
    pub fn history(&self, id: &str) -> Vec<IndexPoint> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.history.get(id).cloned().unwrap_or_default()
    }

    pub fn regions(&self) -> (Vec<RegionIndex>, Vec<CityIndex>) {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        (inner.counties.clone(), inner.cities.clone())
    }

    /// Enterprises of each colour (all four, zeros included), for the metrics.
    pub fn color_counts_all(&self) -> Vec<(&'static str, usize)> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        crate::rules::Color::ALL
            .iter()
            .map(|c| {
                let n = inner
                    .enterprises
                    .values()
                    .filter(|v| v.risk.color == *c)
                    .count();
                (c.as_str(), n)
            })
            .collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published<RiskChange>>> {
        self.stream.subscribe()
    }
}

fn points(history: &IndexHistory) -> Vec<IndexPoint> {
    history.points().copied().collect()
}
