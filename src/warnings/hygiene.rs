//! Alarm hygiene (ISA-18.2, DOMAIN.md R6) over the warnings themselves: per-enterprise rates
//! (the KPIs), and floods: more than `flood_threshold` warnings fired for one enterprise
//! within `flood_window` become one summary warning, and the enterprise's further non-red
//! warnings are recorded as suppressed by it until a window-long slot brings fewer than
//! `flood_end_below`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Serialize;

use crate::model::EventTime;
use crate::rules::Color;

use super::config::WarningsConfig;
use super::record::warning_id;

/// The rule id of flood summaries.
pub const FLOOD_RULE: &str = "r06_warning_flood";
/// How far back the rate KPIs look.
const DAY_MS: i64 = 86_400_000;
/// Warnings remembered per enterprise for the KPIs; beyond it the oldest go (a flood of
/// this size is already flagged).
const MAX_REMEMBERED: usize = 10_000;

/// A flood in progress.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Flood {
    pub id: String,
    pub since: EventTime,
    pub color: Color,
    /// When the current slot ends, and the warnings fired in it.
    slot_end: EventTime,
    slot_count: usize,
    pub total: usize,
}

/// What a fired warning did to its enterprise's flood state.
#[derive(Debug, PartialEq)]
pub enum FloodChange {
    Started(Flood),
    Ended(Flood),
}

#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct EnterpriseLoad {
    /// Event times of the warnings fired (newest last), for a day.
    fired: VecDeque<EventTime>,
    flood: Option<Flood>,
    floods_24h: VecDeque<EventTime>,
}

/// One enterprise's alarm-rate KPIs (served at `/api/warnings/kpis`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmKpi {
    pub enterprise_id: String,
    pub fired_10m: usize,
    pub fired_1h: usize,
    pub fired_24h: usize,
    /// Average per 10 minutes over the last 24 h (ISA-18.2's benchmark is about 1–2).
    pub per_10m_24h: f64,
    pub floods_24h: usize,
    pub flooding: bool,
    pub firing: usize,
    pub chattering: usize,
}

pub struct Hygiene {
    threshold: usize,
    window_ms: i64,
    end_below: usize,
    load: BTreeMap<String, EnterpriseLoad>,
}

impl Hygiene {
    pub fn new(config: &WarningsConfig) -> Self {
        Hygiene {
            threshold: config.flood_threshold,
            window_ms: i64::try_from(config.flood_window.as_millis()).unwrap_or(i64::MAX),
            end_below: config.flood_end_below,
            load: BTreeMap::new(),
        }
    }

    /// The flood state of `enterprises`, for their checkpoint.
    pub(super) fn loads_of(&self, enterprises: &BTreeSet<String>) -> Vec<(String, EnterpriseLoad)> {
        enterprises
            .iter()
            .filter_map(|e| Some((e.clone(), self.load.get(e)?.clone())))
            .collect()
    }

    pub(super) fn restore(&mut self, loads: Vec<(String, EnterpriseLoad)>) {
        self.load.extend(loads);
    }

    pub(super) fn forget(&mut self, enterprises: &BTreeSet<String>) {
        self.load.retain(|e, _| !enterprises.contains(e));
    }

    /// A warning fired for `enterprise` at `now`; may start a flood.
    pub fn fired(&mut self, enterprise: &str, color: Color, now: EventTime) -> Option<FloodChange> {
        let load = self.load.entry(enterprise.to_owned()).or_default();
        load.fired.push_back(now);
        if load.fired.len() > MAX_REMEMBERED {
            load.fired.pop_front();
        }
        if let Some(flood) = &mut load.flood {
            flood.slot_count += 1;
            flood.total += 1;
            flood.color = flood.color.max(flood_color(color));
            return None;
        }
        let recent = count_since(&load.fired, now.millis() - self.window_ms);
        if recent <= self.threshold {
            return None;
        }
        let flood = Flood {
            id: warning_id(FLOOD_RULE, enterprise, "warnings", now),
            since: now,
            color: Color::Yellow,
            slot_end: now.saturating_add_ms(self.window_ms),
            slot_count: 0,
            total: recent,
        };
        load.flood = Some(flood.clone());
        load.floods_24h.push_back(now);
        Some(FloodChange::Started(flood))
    }

    /// The flood of `enterprise`, if one is on.
    pub fn flood(&self, enterprise: &str) -> Option<&Flood> {
        self.load.get(enterprise)?.flood.as_ref()
    }

    /// Closes the slots that ended by `now`; floods whose slot was quiet end.
    pub fn advance(&mut self, now: EventTime) -> Vec<(String, FloodChange)> {
        let mut out = Vec::new();
        for (enterprise, load) in &mut self.load {
            forget_before(&mut load.fired, now.millis() - DAY_MS);
            forget_before(&mut load.floods_24h, now.millis() - DAY_MS);
            let Some(flood) = &mut load.flood else {
                continue;
            };
            while flood.slot_end <= now {
                if flood.slot_count < self.end_below {
                    out.push((enterprise.clone(), FloodChange::Ended(flood.clone())));
                    load.flood = None;
                    break;
                }
                flood.slot_count = 0;
                flood.slot_end = flood.slot_end.saturating_add_ms(self.window_ms);
            }
        }
        self.load
            .retain(|_, l| !l.fired.is_empty() || l.flood.is_some() || !l.floods_24h.is_empty());
        out
    }

    /// The KPIs of every enterprise with a warning in the last day; `standing` gives the
    /// (firing, chattering) counts of an enterprise.
    pub fn kpis(&self, now: EventTime, standing: &dyn Fn(&str) -> (usize, usize)) -> Vec<AlarmKpi> {
        let since = |ms: i64| now.millis() - ms;
        self.load
            .iter()
            .map(|(enterprise, load)| {
                let (firing, chattering) = standing(enterprise);
                let fired_24h = count_since(&load.fired, since(DAY_MS));
                AlarmKpi {
                    enterprise_id: enterprise.clone(),
                    fired_10m: count_since(&load.fired, since(600_000)),
                    fired_1h: count_since(&load.fired, since(3_600_000)),
                    fired_24h,
                    per_10m_24h: fired_24h as f64 / 144.0,
                    floods_24h: load.floods_24h.len(),
                    flooding: load.flood.is_some(),
                    firing,
                    chattering,
                }
            })
            .collect()
    }

    pub fn floods_active(&self) -> usize {
        self.load.values().filter(|l| l.flood.is_some()).count()
    }
}

/// DOMAIN.md R6: a flood is yellow, orange when it holds a red (HH) warning.
fn flood_color(member: Color) -> Color {
    if member == Color::Red {
        Color::Orange
    } else {
        Color::Yellow
    }
}

fn count_since(times: &VecDeque<EventTime>, since_ms: i64) -> usize {
    times.len() - times.partition_point(|t| t.millis() <= since_ms)
}

fn forget_before(times: &mut VecDeque<EventTime>, since_ms: i64) {
    while times.front().is_some_and(|t| t.millis() <= since_ms) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn at(s: i64) -> EventTime {
        EventTime::from_millis(1_600_000_000_000 + s * 1000)
    }

    #[test]
    fn the_eleventh_warning_in_ten_minutes_starts_a_flood_that_ends_with_a_quiet_slot() {
        let mut h = Hygiene::new(&Config::default().warnings);
        for i in 0..10 {
            assert_eq!(h.fired("e1", Color::Blue, at(i * 30)), None);
        }
        let Some(FloodChange::Started(flood)) = h.fired("e1", Color::Blue, at(301)) else {
            panic!("no flood");
        };
        assert_eq!((flood.total, flood.color), (11, Color::Yellow));
        assert!(
            h.fired("e2", Color::Blue, at(302)).is_none(),
            "per enterprise"
        );
        // The first slot (301 s .. 901 s) holds 6 more: the flood goes on, and turns orange.
        for i in 0..6 {
            h.fired("e1", Color::Red, at(400 + i));
        }
        assert!(h.advance(at(901)).is_empty());
        assert_eq!(h.flood("e1").map(|f| f.color), Some(Color::Orange));
        // The second slot holds 4: it ends there.
        for i in 0..4 {
            h.fired("e1", Color::Blue, at(1000 + i));
        }
        let ended = h.advance(at(1501));
        assert!(matches!(&ended[..], [(e, FloodChange::Ended(f))] if e == "e1" && f.total == 21));
        assert!(h.flood("e1").is_none());
        let kpi = h.kpis(at(1501), &|_| (2, 1));
        let e1 = kpi.iter().find(|k| k.enterprise_id == "e1").unwrap();
        assert_eq!(
            (e1.fired_24h, e1.floods_24h, e1.flooding, e1.firing),
            (21, 1, false, 2)
        );
        assert_eq!(e1.fired_10m, 4);
    }
}
