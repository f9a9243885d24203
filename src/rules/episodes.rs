//! Episodes: maximal runs of evaluations in which a rule keeps returning the same
//! (enterprise, subject). They feed the `active_warnings` table (so rules such as R7 and
//! R16 can see what is already being warned about) and the backtest's warning counts.
//! The full warning lifecycle (`for`, `clear_after`, escalation, feedback) is built on
//! these hits by the warnings stage.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::EventTime;

use super::color::Color;
use super::hit::RuleHit;

/// An open episode, as the `active_warnings` table shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveWarning {
    pub id: String,
    pub rule_id: String,
    pub enterprise_id: String,
    pub subject: String,
    pub color: Color,
    pub first_seen: EventTime,
    pub last_seen: EventTime,
}

/// The same (rule, enterprise, subject, start) always gives the same id, across restarts
/// and replays.
pub fn episode_id(
    rule_id: &str,
    enterprise_id: &str,
    subject: &str,
    first_seen: EventTime,
) -> String {
    let mut h = Sha256::new();
    for part in [rule_id, enterprise_id, subject] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(first_seen.millis().to_be_bytes());
    let digest = h.finalize();
    digest[..10].iter().map(|b| format!("{b:02x}")).collect()
}

type Key = (String, String, String);

#[derive(Default)]
pub struct Episodes {
    open: BTreeMap<Key, ActiveWarning>,
}

/// What one rule's evaluation changed.
#[derive(Debug, Default, PartialEq)]
pub struct EpisodeChanges {
    pub opened: Vec<ActiveWarning>,
    pub closed: usize,
}

impl Episodes {
    /// Records the hits of one evaluation of `rule_id` at `now`: new keys open an episode,
    /// keys no longer returned close theirs.
    pub fn update(&mut self, rule_id: &str, hits: &[RuleHit], now: EventTime) -> EpisodeChanges {
        let mut changes = EpisodeChanges::default();
        let mut seen = std::collections::BTreeSet::new();
        for hit in hits {
            let key = (
                rule_id.to_owned(),
                hit.enterprise_id.clone(),
                hit.subject.clone(),
            );
            let episode = self.open.entry(key.clone()).or_insert_with(|| {
                let opened = ActiveWarning {
                    id: episode_id(rule_id, &hit.enterprise_id, &hit.subject, now),
                    rule_id: rule_id.to_owned(),
                    enterprise_id: hit.enterprise_id.clone(),
                    subject: hit.subject.clone(),
                    color: hit.color,
                    first_seen: now,
                    last_seen: now,
                };
                changes.opened.push(opened.clone());
                opened
            });
            episode.last_seen = now;
            episode.color = episode.color.max(hit.color);
            seen.insert(key);
        }
        let before = self.open.len();
        self.open.retain(|k, _| k.0 != rule_id || seen.contains(k));
        changes.closed = before - self.open.len();
        changes
    }

    /// Closes every episode of a rule (it was removed).
    pub fn close_rule(&mut self, rule_id: &str) -> usize {
        let before = self.open.len();
        self.open.retain(|k, _| k.0 != rule_id);
        before - self.open.len()
    }

    pub fn active(&self) -> Vec<ActiveWarning> {
        self.open.values().cloned().collect()
    }

    /// The open episodes of these enterprises, for their partition's checkpoint.
    pub fn of(&self, enterprises: &BTreeSet<String>) -> Vec<ActiveWarning> {
        self.open
            .values()
            .filter(|e| enterprises.contains(&e.enterprise_id))
            .cloned()
            .collect()
    }

    /// Reopens episodes read from a checkpoint, first seen when they were.
    pub fn restore(&mut self, episodes: Vec<ActiveWarning>) {
        for e in episodes {
            let key = (
                e.rule_id.clone(),
                e.enterprise_id.clone(),
                e.subject.clone(),
            );
            self.open.insert(key, e);
        }
    }

    /// Drops the episodes of enterprises that moved to another instance, closing nothing.
    pub fn forget(&mut self, enterprises: &BTreeSet<String>) {
        self.open.retain(|k, _| !enterprises.contains(&k.1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(enterprise: &str, subject: &str) -> RuleHit {
        RuleHit {
            rule_id: "R1".into(),
            enterprise_id: enterprise.into(),
            subject: subject.into(),
            color: Color::Orange,
            value: None,
            threshold: None,
            message: None,
            evidence: Default::default(),
        }
    }

    #[test]
    fn a_restored_episode_goes_on_under_its_first_id() {
        let t0 = EventTime::from_millis(1_700_000_000_000);
        let t1 = t0.saturating_add_ms(60_000);
        let mut running = Episodes::default();
        running.update("R1", &[hit("E1", "T1"), hit("E2", "T9")], t0);
        let mine = BTreeSet::from(["E1".to_owned()]);
        let saved = running.of(&mine);
        assert_eq!(saved.len(), 1);

        let mut restored = Episodes::default();
        restored.restore(saved.clone());
        let changes = restored.update("R1", &[hit("E1", "T1")], t1);
        assert!(changes.opened.is_empty(), "{changes:?}");
        assert_eq!(restored.active()[0].id, saved[0].id);
        assert_eq!(restored.active()[0].first_seen, t0);

        running.forget(&mine);
        assert_eq!(running.active().len(), 1);
        assert_eq!(running.active()[0].enterprise_id, "E2");
    }
}
