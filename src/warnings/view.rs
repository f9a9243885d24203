//! The warnings as the API serves them: every record of every open warning and of the most
//! recent resolved ones, the alarm-rate KPIs, and a broadcast of new records for the
//! server-sent-event stream. Written by the rules task after each tick, read by the API.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use serde::Deserialize;
use tokio::sync::broadcast;

use crate::model::{EventTime, Published};

use super::hygiene::AlarmKpi;
use super::lifecycle::Transition;
use super::record::WarningRecord;

/// Records kept per warning (its firing, escalations, updates and resolution).
const MAX_RECORDS_PER_WARNING: usize = 100;
/// Records the event stream buffers for a slow subscriber before it skips.
const STREAM_BUFFER: usize = 4_096;

/// `GET /api/warnings` filters; every one optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarningQuery {
    /// `open` (not resolved), or a record state: firing, escalated, updated, resolved.
    pub state: Option<String>,
    pub color: Option<String>,
    pub rule: Option<String>,
    pub region: Option<String>,
    pub enterprise: Option<String>,
    /// Warnings active at some point in [from, to] (event time).
    pub from: Option<EventTime>,
    pub to: Option<EventTime>,
    pub limit: Option<usize>,
}

impl WarningQuery {
    fn matches(&self, latest: &WarningRecord, fired_at: EventTime) -> bool {
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let state_ok = match self.state.as_deref() {
            Some("open") => latest.state != Transition::Resolved,
            other => other.is_none_or(|s| s == latest.state.as_str()),
        };
        let ended = (latest.state == Transition::Resolved)
            .then(|| parse_time(&latest.at))
            .flatten();
        state_ok
            && is(&self.color, latest.color.as_str())
            && is(&self.rule, &latest.rule_id)
            && is(&self.enterprise, &latest.enterprise_id)
            && is(&self.region, latest.region_id.as_deref().unwrap_or(""))
            && self.to.is_none_or(|to| fired_at <= to)
            && self
                .from
                .is_none_or(|from| ended.is_none_or(|end| end >= from))
    }
}

fn parse_time(s: &str) -> Option<EventTime> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Vec<WarningRecord>>,
    resolved: VecDeque<String>,
    kpis: Vec<AlarmKpi>,
}

pub struct WarningView {
    inner: RwLock<Inner>,
    stream: broadcast::Sender<Arc<Published<WarningRecord>>>,
    history: usize,
}

impl WarningView {
    /// Keeps every open warning and the last `history` resolved ones.
    pub fn new(history: usize) -> Self {
        WarningView {
            inner: RwLock::default(),
            stream: broadcast::channel(STREAM_BUFFER).0,
            history,
        }
    }

    pub fn publish(&self, records: &[WarningRecord]) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        for record in records {
            let all = inner.by_id.entry(record.id.clone()).or_default();
            if all.len() >= MAX_RECORDS_PER_WARNING {
                all.remove(1);
            }
            all.push(record.clone());
            if record.state == Transition::Resolved {
                inner.resolved.push_back(record.id.clone());
            }
            // No subscriber is fine: the stream is best effort, the list is the truth.
            let _ = self.stream.send(Arc::new(Published::new(record.clone())));
        }
        while inner.resolved.len() > self.history {
            let Some(id) = inner.resolved.pop_front() else {
                break;
            };
            let reopened = inner
                .by_id
                .get(&id)
                .and_then(|r| r.last())
                .is_some_and(|r| r.state != Transition::Resolved);
            if !reopened {
                inner.by_id.remove(&id);
            }
        }
    }

    /// The records of the open warnings of `enterprises`, for their partition's checkpoint.
    pub fn open_of(
        &self,
        enterprises: &std::collections::BTreeSet<String>,
    ) -> Vec<Vec<WarningRecord>> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner
            .by_id
            .values()
            .filter(|records| {
                records.last().is_some_and(|last| {
                    last.state != Transition::Resolved && enterprises.contains(&last.enterprise_id)
                })
            })
            .cloned()
            .collect()
    }

    /// Shows warnings restored from a checkpoint again, as they were (nothing is streamed).
    pub fn restore(&self, warnings: Vec<Vec<WarningRecord>>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        for records in warnings {
            if let Some(id) = records.last().map(|r| r.id.clone()) {
                inner.by_id.insert(id, records);
            }
        }
    }

    /// Stops showing the warnings of enterprises that moved to another instance.
    pub fn forget(&self, enterprises: &std::collections::BTreeSet<String>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.by_id.retain(|_, records| {
            records
                .last()
                .is_none_or(|r| !enterprises.contains(&r.enterprise_id))
        });
    }

    pub fn set_kpis(&self, kpis: Vec<AlarmKpi>) {
        self.inner.write().unwrap_or_else(|e| e.into_inner()).kpis = kpis;
    }

    /// The latest record of each matching warning, newest first.
    pub fn list(&self, query: &WarningQuery) -> Vec<WarningRecord> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<WarningRecord> = inner
            .by_id
            .values()
            .filter_map(|records| {
                let latest = records.last()?;
                let fired = parse_time(&latest.fired_at)?;
                query.matches(latest, fired).then(|| latest.clone())
            })
            .collect();
        out.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
        out.truncate(query.limit.unwrap_or(1_000));
        out
    }

    /// Every record of one warning, oldest first.
    pub fn get(&self, id: &str) -> Option<Vec<WarningRecord>> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.by_id.get(id).cloned()
    }

    pub fn kpis(&self) -> Vec<AlarmKpi> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .kpis
            .clone()
    }

    /// Open event streams.
    pub fn subscribers(&self) -> usize {
        self.stream.receiver_count()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published<WarningRecord>>> {
        self.stream.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn record(id: &str, enterprise: &str, state: &str) -> WarningRecord {
        serde_json::from_value(serde_json::json!({
            "id": id, "rule_id": "r02_gas_leak", "rule_version": "v1",
            "enterprise_id": enterprise, "region_id": "330102", "subject": "T1",
            "color": "red", "state": state, "tier": "enterprise",
            "at": "2020-03-01T08:10:00Z", "first_seen": "2020-03-01T08:09:00Z",
            "fired_at": "2020-03-01T08:10:00Z", "value": 62.0, "message": "leak",
            "basis": "GB/T 50493", "activations": 1, "evidence": {"max_ppm": 62.0},
            "inputs": [{"topic": "sensor.reading", "partition": 3, "unit": "offsets",
                        "first": 10, "last": 90, "records": 12}],
        }))
        .expect("a warning record")
    }

    #[test]
    fn open_warnings_come_back_from_a_checkpoint_and_moved_ones_go() {
        let running = WarningView::new(10);
        running.publish(&[
            record("a", "E1", "firing"),
            record("b", "E1", "firing"),
            record("b", "E1", "resolved"),
            record("c", "E2", "firing"),
        ]);
        let mine = BTreeSet::from(["E1".to_owned()]);
        let saved = rmp_serde::to_vec_named(&running.open_of(&mine)).unwrap();

        let restored = WarningView::new(10);
        let mut stream = restored.subscribe();
        restored.restore(rmp_serde::from_slice(&saved).unwrap());
        let listed = restored.list(&WarningQuery::default());
        assert_eq!(listed, vec![record("a", "E1", "firing")]);
        assert!(stream.try_recv().is_err(), "restoring streams nothing");

        running.forget(&mine);
        let ids: Vec<String> = running
            .list(&WarningQuery::default())
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["c"]);
    }
}
