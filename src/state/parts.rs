//! The parts of an enterprise's state that change independently, each with its own version,
//! so that a reader (the rule tables) rebuilds only what reads the part that changed: a
//! reading touches the sensor tables, never the permit or business ones.

/// A part of an enterprise's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Live values and point status.
    Sensors,
    Alarms,
    /// Permits and their gas analyses.
    Permits,
    /// Status, operations, people, inventory, commitments, inspections, feedback.
    Business,
    /// Reference data: profile, hazard units, equipment, areas, indicator definitions.
    Registry,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::Sensors,
        Part::Alarms,
        Part::Permits,
        Part::Business,
        Part::Registry,
    ];
    pub const COUNT: usize = Part::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One version per part. Reference data appears in every other part's tables (an indicator's
/// limits, an area's grade), so a registry change bumps them all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartVersions([u64; Part::COUNT]);

impl PartVersions {
    pub fn bump(&mut self, part: Part) {
        if part == Part::Registry {
            self.0.iter_mut().for_each(|v| *v += 1);
        } else {
            self.0[part.index()] += 1;
        }
    }

    pub fn of(&self, part: Part) -> u64 {
        self.0[part.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_changes_alone_and_the_registry_changes_every_part() {
        let mut v = PartVersions::default();
        v.bump(Part::Sensors);
        v.bump(Part::Sensors);
        assert_eq!(v.of(Part::Sensors), 2);
        assert_eq!(v.of(Part::Permits), 0);
        v.bump(Part::Registry);
        assert!(Part::ALL.iter().all(|p| v.of(*p) >= 1));
        assert_eq!(v.of(Part::Sensors), 3);
    }
}
