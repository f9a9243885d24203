//! The lifecycle of one warning, per (rule, enterprise, subject), on event time:
//!
//! ```text
//!   hit ──► pending ──(held for `for`)──► firing ──(colour rises)──► escalated (same id)
//!              │ no hit                     │ no hit
//!              ▼                            ▼
//!           (forgotten)                  clearing ──(no hit for `clear_after`, and fired at
//!                                           │ hit        least `keep_firing_for` ago)──► resolved
//!                                           ▼
//!                                         firing (no new record)
//! ```
//! A pending condition that goes away never fires: no storm from a blip. Hysteresis comes from
//! `clear_after`: one episode gives exactly one `firing` record and one `resolved` record.

use std::time::Duration;

use crate::model::EventTime;
use crate::rules::Color;

/// When a warning's state changes, what is said about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Firing,
    Escalated,
    /// New feedback on a firing warning (ack, verified, maintenance, defer).
    Updated,
    Resolved,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Firing => "firing",
            Transition::Escalated => "escalated",
            Transition::Updated => "updated",
            Transition::Resolved => "resolved",
        }
    }
}

/// The timing a rule asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    pub hold_for: Duration,
    pub clear_after: Duration,
    pub keep_firing_for: Duration,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    Pending,
    Firing,
    /// Firing, but the condition has been false since `since`.
    Clearing {
        since: EventTime,
    },
}

/// One tracked warning.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tracked {
    pub phase: Phase,
    /// When the condition was first seen (the episode's start; part of the id).
    pub first_seen: EventTime,
    pub fired_at: Option<EventTime>,
    /// The most urgent colour reached while firing.
    pub color: Color,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Tracked {
    pub fn new(now: EventTime, color: Color) -> Self {
        Tracked {
            phase: Phase::Pending,
            first_seen: now,
            fired_at: None,
            color,
        }
    }

    /// The condition holds at `now` with `color`; returns the record to emit, if any.
    pub fn hit(&mut self, now: EventTime, color: Color, timing: &Timing) -> Option<Transition> {
        match self.phase {
            Phase::Pending => {
                self.color = self.color.max(color);
                if now.millis() - self.first_seen.millis() >= ms(timing.hold_for) {
                    self.phase = Phase::Firing;
                    self.fired_at = Some(now);
                    return Some(Transition::Firing);
                }
                None
            }
            Phase::Firing | Phase::Clearing { .. } => {
                self.phase = Phase::Firing;
                if color > self.color {
                    self.color = color;
                    return Some(Transition::Escalated);
                }
                None
            }
        }
    }

    /// The condition does not hold at `now`. Returns `(record, keep)`: what to emit, and
    /// whether the warning is still tracked.
    pub fn miss(&mut self, now: EventTime, timing: &Timing) -> (Option<Transition>, bool) {
        match self.phase {
            Phase::Pending => (None, false),
            Phase::Firing => {
                self.phase = Phase::Clearing { since: now };
                self.try_resolve(now, timing)
            }
            Phase::Clearing { .. } => self.try_resolve(now, timing),
        }
    }

    fn try_resolve(&mut self, now: EventTime, timing: &Timing) -> (Option<Transition>, bool) {
        let Phase::Clearing { since } = self.phase else {
            return (None, true);
        };
        let cleared = now.millis() - since.millis() >= ms(timing.clear_after);
        let kept = self
            .fired_at
            .is_some_and(|f| now.millis() - f.millis() < ms(timing.keep_firing_for));
        if cleared && !kept {
            (Some(Transition::Resolved), false)
        } else {
            (None, true)
        }
    }

    /// The rule is gone: a firing warning resolves at once, a pending one is forgotten.
    pub fn abandon(&self) -> Option<Transition> {
        (self.phase != Phase::Pending).then_some(Transition::Resolved)
    }
}
