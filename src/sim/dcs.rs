//! The enterprises' own control systems: the `alarm.lifecycle` events (origin ENTERPRISE_DCS)
//! a well-configured DCS raises from the readings vigil also receives, at the registered limits,
//! with each point's on-delay, deadband and off-delay. vigil holds them against its own limit
//! check (R5) and judges their hygiene (R6). Scenarios silence the DCS on one point
//! (under-reporting), flood a console with nuisance alarms, or make one point chatter.

use serde_json::json;

use crate::model::{EventTime, Indicator};

use super::readings::Reading;
use super::scenario::{Injection, Scenario};
use super::span::Span;
use super::{Province, SimRecord};

/// How far past its limit a point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    H,
    HH,
    L,
    LL,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::H => "h",
            Level::HH => "hh",
            Level::L => "l",
            Level::LL => "ll",
        }
    }

    fn is_high(self) -> bool {
        matches!(self, Level::H | Level::HH)
    }

    /// The registered limit this level is judged against.
    fn threshold(self, indicator: &Indicator) -> Option<f64> {
        match self {
            Level::H => indicator.l1_hi,
            Level::HH => indicator.l2_hi,
            Level::L => indicator.l1_lo,
            Level::LL => indicator.l2_lo,
        }
    }

    /// The level `value` is at, the worst first; `None`: inside the limits.
    fn of(indicator: &Indicator, value: f64) -> Option<Level> {
        let past_hi = |limit: Option<f64>| limit.is_some_and(|l| value >= l);
        let past_lo = |limit: Option<f64>| limit.is_some_and(|l| value <= l);
        [
            (Level::HH, past_hi(indicator.l2_hi)),
            (Level::H, past_hi(indicator.l1_hi)),
            (Level::LL, past_lo(indicator.l2_lo)),
            (Level::L, past_lo(indicator.l1_lo)),
        ]
        .into_iter()
        .find_map(|(level, past)| past.then_some(level))
    }
}

/// Back inside the level-1 limit on `level`'s side by the deadband (1 % of span by default).
fn is_clear(indicator: &Indicator, level: Level, value: f64) -> bool {
    let deadband = indicator
        .deadband
        .unwrap_or((indicator.range_hi - indicator.range_lo) / 100.0);
    if level.is_high() {
        indicator.l1_hi.is_none_or(|l| value < l - deadband)
    } else {
        indicator.l1_lo.is_none_or(|l| value > l + deadband)
    }
}

/// One point's alarm state in the DCS.
#[derive(Clone, Debug, Default)]
struct PointAlarm {
    /// Past a limit since, not raised yet (the on-delay runs).
    pending_since: Option<i64>,
    /// The raised alarm: its number on the point and its level.
    active: Option<(u32, Level)>,
    /// Back inside since, not cleared yet (the off-delay runs).
    inside_since: Option<i64>,
    raised: u32,
}

/// What the DCS does with one reading.
enum Transition {
    Raise(Level),
    Escalate(Level),
    Deescalate(Level),
    Clear(Level),
}

impl Transition {
    fn name(&self) -> &'static str {
        match self {
            Transition::Raise(_) => "raise",
            Transition::Escalate(_) => "escalate",
            Transition::Deescalate(_) => "deescalate",
            Transition::Clear(_) => "clear",
        }
    }

    fn level(&self) -> Level {
        match *self {
            Transition::Raise(l)
            | Transition::Escalate(l)
            | Transition::Deescalate(l)
            | Transition::Clear(l) => l,
        }
    }
}

impl PointAlarm {
    fn observe(&mut self, indicator: &Indicator, ts: i64, value: f64) -> Option<Transition> {
        let now = Level::of(indicator, value);
        match (self.active, now) {
            (None, None) => {
                self.pending_since = None;
                None
            }
            (None, Some(level)) => {
                let since = *self.pending_since.get_or_insert(ts);
                if ts - since < i64::from(indicator.on_delay_s) * 1000 {
                    return None;
                }
                self.raised += 1;
                self.active = Some((self.raised, level));
                self.pending_since = None;
                Some(Transition::Raise(level))
            }
            (Some((n, active)), _) => self.follow(indicator, n, active, now, ts, value),
        }
    }

    /// A raised alarm follows its point: up to HH, back to H, cleared once inside for the
    /// off-delay.
    fn follow(
        &mut self,
        indicator: &Indicator,
        n: u32,
        active: Level,
        now: Option<Level>,
        ts: i64,
        value: f64,
    ) -> Option<Transition> {
        if !is_clear(indicator, active, value) {
            self.inside_since = None;
            let now = now.filter(|l| l.is_high() == active.is_high() && *l != active)?;
            self.active = Some((n, now));
            let worse = matches!(now, Level::HH | Level::LL);
            return Some(if worse {
                Transition::Escalate(now)
            } else {
                Transition::Deescalate(now)
            });
        }
        let since = *self.inside_since.get_or_insert(ts);
        if ts - since < i64::from(indicator.off_delay_s) * 1000 {
            return None;
        }
        self.active = None;
        self.inside_since = None;
        Some(Transition::Clear(active))
    }
}

/// The DCS of every enterprise of a province, fed the readings in event-time order.
pub struct Dcs<'p> {
    province: &'p Province,
    points: Vec<Vec<PointAlarm>>,
    /// Under-reporting injections: the DCS raises nothing on their point while they last.
    silenced: Vec<Injection>,
}

impl<'p> Dcs<'p> {
    pub fn new(province: &'p Province, injections: &[Injection]) -> Self {
        Dcs {
            province,
            points: province
                .enterprises
                .iter()
                .map(|e| vec![PointAlarm::default(); e.indicators.len()])
                .collect(),
            silenced: injections
                .iter()
                .filter(|i| i.scenario == Scenario::UnderReporting)
                .cloned()
                .collect(),
        }
    }

    /// The alarm event `reading` causes, if any.
    pub fn observe(&mut self, reading: &Reading<'_>) -> Option<SimRecord> {
        let (e, i) = (reading.enterprise as usize, reading.indicator as usize);
        let ts = reading.ts.millis();
        let silent = self
            .silenced
            .iter()
            .any(|j| j.enterprise == e && j.indicator == Some(i) && j.covers(ts));
        if silent {
            return None;
        }
        let indicator = &self.province.enterprises[e].indicators[i];
        let point = &mut self.points[e][i];
        let transition = point.observe(indicator, ts, reading.value)?;
        let level = transition.level();
        Some(alarm_record(
            indicator,
            AlarmFacts {
                alarm_id: format!("{}-AL{}", indicator.target_code, point.raised),
                transition: transition.name(),
                level,
                value: reading.value,
                threshold: level.threshold(indicator),
            },
            reading.ts,
        ))
    }
}

/// What one `alarm.lifecycle` event says about its point.
struct AlarmFacts {
    alarm_id: String,
    transition: &'static str,
    level: Level,
    value: f64,
    threshold: Option<f64>,
}

fn alarm_record(indicator: &Indicator, alarm: AlarmFacts, ts: EventTime) -> SimRecord {
    SimRecord {
        topic: "alarm.lifecycle",
        key: indicator.enterprise_id.clone(),
        value: json!({
            "ts": ts, "enterprise_id": indicator.enterprise_id, "alarm_id": alarm.alarm_id,
            "target_code": indicator.target_code, "transition": alarm.transition,
            "level": alarm.level.name(), "value": alarm.value, "threshold": alarm.threshold,
            "origin": "enterprise_dcs", "dispel_type": "auto",
        }),
    }
}

/// Seconds between the nuisance raises of a flood, and how many: twelve in under nine
/// minutes is past R6's ten per console in ten minutes.
const FLOOD_EVERY_MS: i64 = 45_000;
const FLOOD_RAISES: i64 = 12;
/// A chattering point raises three times, twenty seconds apart, each cleared in between.
const CHATTER_EVERY_MS: i64 = 20_000;
const CHATTER_RAISES: i64 = 3;
/// A nuisance alarm clears itself this soon.
const NUISANCE_CLEARS_AFTER_MS: i64 = 10_000;

/// The alarms scenarios script in `[start, end)`: a flood of nuisance alarms on one console
/// (a setpoint left too tight, raised in turn by every point of the console, never the same
/// point twice a minute); a point chattering at its limit (the DCS scans faster than the
/// platform samples, so the readings vigil gets do not show it).
pub fn scripted(span: &Span<'_>) -> Vec<(EventTime, SimRecord)> {
    let mut out = Vec::new();
    for injection in span.injections {
        let ent = &span.province.enterprises[injection.enterprise];
        let from = injection.from.millis();
        let raises: Vec<(i64, usize)> = match (injection.scenario, injection.indicator) {
            (Scenario::AlarmFlood, _) => (0..FLOOD_RAISES)
                .map(|n| (from + n * FLOOD_EVERY_MS, n as usize % ent.indicators.len()))
                .collect(),
            (Scenario::ChatteringAlarm, Some(point)) => (0..CHATTER_RAISES)
                .map(|n| (from + n * CHATTER_EVERY_MS, point))
                .collect(),
            _ => continue,
        };
        for (n, (at, point)) in raises.into_iter().enumerate() {
            let indicator = &ent.indicators[point];
            let (mean, _) = ent.normals[point];
            let (value, threshold) = match injection.scenario {
                // A setpoint just under the normal value.
                Scenario::AlarmFlood => (mean, mean * 0.99),
                _ => {
                    let limit = indicator.l1_hi.unwrap_or(indicator.range_hi);
                    (limit + 0.2, limit)
                }
            };
            for (transition, t) in [("raise", at), ("clear", at + NUISANCE_CLEARS_AFTER_MS)] {
                let alarm = AlarmFacts {
                    alarm_id: format!("{}-NU{}", indicator.target_code, n + 1),
                    transition,
                    level: Level::H,
                    value,
                    threshold: Some(threshold),
                };
                let ts = EventTime::from_millis(t);
                out.push((ts, alarm_record(indicator, alarm, ts)));
            }
        }
    }
    out.retain(|(at, _)| *at >= span.start && *at < span.end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tank_level() -> Indicator {
        let province = Province::generate(1, 1, 1);
        province.enterprises[0].indicators[0].clone()
    }

    fn run(
        indicator: &Indicator,
        samples: &[(i64, f64)],
    ) -> Vec<(i64, &'static str, &'static str)> {
        let mut point = PointAlarm::default();
        samples
            .iter()
            .filter_map(|&(s, v)| {
                let t = point.observe(indicator, s * 1000, v)?;
                Some((s, t.name(), t.level().name()))
            })
            .collect()
    }

    #[test]
    fn raises_after_the_on_delay_follows_the_level_and_clears_after_the_off_delay() {
        let level = tank_level();
        assert_eq!((level.l1_hi, level.l2_hi), (Some(85.0), Some(90.0)));
        let samples: Vec<(i64, f64)> = [
            50.0, 86.0, 86.0, 86.0, 91.0, 87.0, 84.5, 83.0, 83.0, 83.0, 83.0, 83.0,
        ]
        .into_iter()
        .enumerate()
        .map(|(n, v)| (n as i64 * 20, v))
        .collect();
        assert_eq!(
            run(&level, &samples),
            [
                (60, "raise", "h"),
                (80, "escalate", "hh"),
                (100, "deescalate", "h"),
                // 84.5 is inside 85 by less than the 1 % deadband: still raised.
                (200, "clear", "h"),
            ]
        );
    }

    #[test]
    fn a_spike_shorter_than_the_on_delay_raises_nothing() {
        let level = tank_level();
        assert!(run(&level, &[(0, 86.0), (20, 50.0), (40, 86.0), (60, 50.0)]).is_empty());
    }

    #[test]
    fn low_limits_raise_low_alarms() {
        let level = tank_level();
        assert_eq!(run(&level, &[(0, 9.0), (30, 9.0)]), [(30, "raise", "l")]);
    }
}
