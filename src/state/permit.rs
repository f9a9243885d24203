//! A special-work permit: its latest details, current phase and the time of every transition.
//!
//! The phase machine accepts what really happens on sites, including what rule R10 flags
//! (work started without an issued permit, or after a change without reissue); it rejects only
//! what cannot happen: anything after the permit closed or was cancelled, a resume of work
//! that is not suspended, a suspension of work that is not running, a plan after issue.

use crate::model::{EventTime, PermitEvent, PermitTransition};

use PermitTransition as T;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermitPhase {
    Planned,
    Issued,
    Started,
    Suspended,
    Resumed,
    Changed,
    Closed,
    Cancelled,
}

impl PermitPhase {
    pub fn after(transition: PermitTransition) -> PermitPhase {
        match transition {
            T::Planned => PermitPhase::Planned,
            T::Issued => PermitPhase::Issued,
            T::Started => PermitPhase::Started,
            T::Suspended => PermitPhase::Suspended,
            T::Resumed => PermitPhase::Resumed,
            T::Changed => PermitPhase::Changed,
            T::Closed => PermitPhase::Closed,
            T::Cancelled => PermitPhase::Cancelled,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, PermitPhase::Closed | PermitPhase::Cancelled)
    }

    /// Work is going on (started or resumed).
    pub fn is_active(self) -> bool {
        matches!(self, PermitPhase::Started | PermitPhase::Resumed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PermitPhase::Planned => "planned",
            PermitPhase::Issued => "issued",
            PermitPhase::Started => "started",
            PermitPhase::Suspended => "suspended",
            PermitPhase::Resumed => "resumed",
            PermitPhase::Changed => "changed",
            PermitPhase::Closed => "closed",
            PermitPhase::Cancelled => "cancelled",
        }
    }
}

/// Whether `transition` can follow `phase` (`None`: the permit is new to vigil).
pub fn is_possible(phase: Option<PermitPhase>, transition: PermitTransition) -> bool {
    use PermitPhase as P;
    match (phase, transition) {
        (Some(p), _) if p.is_terminal() => false,
        (_, T::Resumed) => matches!(phase, Some(P::Suspended | P::Changed)),
        (_, T::Suspended) => matches!(phase, Some(P::Started | P::Resumed | P::Changed)),
        (_, T::Planned) => phase.is_none(),
        (Some(P::Started | P::Resumed), T::Started) => false,
        _ => true,
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PermitState {
    /// The latest event's details (type, grade, location, planned times, ...).
    pub latest: Box<PermitEvent>,
    pub phase: PermitPhase,
    /// Every transition with its event time, oldest first, at most the configured number
    /// (the first one is always kept: it says how the permit began).
    pub transitions: Vec<(PermitTransition, EventTime)>,
}

impl PermitState {
    pub fn new(event: PermitEvent) -> Self {
        PermitState {
            phase: PermitPhase::after(event.transition),
            transitions: vec![(event.transition, event.ts)],
            latest: Box::new(event),
        }
    }

    pub fn apply(&mut self, event: PermitEvent, max_transitions: usize) {
        self.phase = PermitPhase::after(event.transition);
        if self.transitions.len() >= max_transitions.max(2) {
            self.transitions.remove(1);
        }
        self.transitions.push((event.transition, event.ts));
        *self.latest = event;
    }

    /// Time of the most recent occurrence of `transition`.
    pub fn last_time_of(&self, transition: PermitTransition) -> Option<EventTime> {
        self.transitions
            .iter()
            .rev()
            .find(|(t, _)| *t == transition)
            .map(|(_, at)| *at)
    }

    /// When the permit reached its current phase.
    pub fn since(&self) -> EventTime {
        self.transitions
            .last()
            .map(|(_, at)| *at)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PermitPhase as P;

    #[test]
    fn nothing_follows_a_closed_permit() {
        for t in [T::Started, T::Issued, T::Changed, T::Closed] {
            assert!(!is_possible(Some(P::Closed), t));
            assert!(!is_possible(Some(P::Cancelled), t));
        }
    }

    #[test]
    fn violations_that_rules_flag_are_accepted() {
        assert!(is_possible(None, T::Started), "R10: work without a permit");
        assert!(
            is_possible(Some(P::Changed), T::Started),
            "R10: change without reissue"
        );
        assert!(is_possible(Some(P::Planned), T::Started));
    }

    #[test]
    fn resume_needs_a_suspension() {
        assert!(!is_possible(Some(P::Started), T::Resumed));
        assert!(is_possible(Some(P::Suspended), T::Resumed));
        assert!(!is_possible(Some(P::Issued), T::Suspended));
        assert!(!is_possible(Some(P::Started), T::Started));
    }
}
