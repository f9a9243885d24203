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
    /// Monitored units' scores: a sample completed (most readings complete none).
    Monitors,
}

impl Part {
    pub const ALL: [Part; 6] = [
        Part::Sensors,
        Part::Alarms,
        Part::Permits,
        Part::Business,
        Part::Registry,
        Part::Monitors,
    ];
    pub const COUNT: usize = Part::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One version per part. Reference data appears in every other part's tables (an indicator's
/// limits, an area's grade), so a registry change bumps them all.
/// Encoded as a list: a checkpoint written before a part existed reads with that part at 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "Vec<u64>", into = "Vec<u64>")]
pub struct PartVersions([u64; Part::COUNT]);

impl From<Vec<u64>> for PartVersions {
    fn from(list: Vec<u64>) -> Self {
        let mut versions = PartVersions::default();
        for (slot, v) in versions.0.iter_mut().zip(list) {
            *slot = v;
        }
        versions
    }
}

impl From<PartVersions> for Vec<u64> {
    fn from(versions: PartVersions) -> Self {
        versions.0.to_vec()
    }
}

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

    #[test]
    fn versions_from_before_a_part_existed_read_it_as_zero() {
        let old = rmp_serde::to_vec(&vec![4u64, 3, 2, 1, 9]).unwrap();
        let read: PartVersions = rmp_serde::from_slice(&old).unwrap();
        assert_eq!(read.of(Part::Registry), 9);
        assert_eq!(read.of(Part::Monitors), 0);
        let again: PartVersions =
            rmp_serde::from_slice(&rmp_serde::to_vec(&read).unwrap()).unwrap();
        assert_eq!(again, read);
    }
}
