//! The input topics vigil consumes, by their wire names.

/// An input topic, by the fixed names of DESIGN.md §1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    Registry,
    SensorReading,
    SensorStatus,
    AlarmLifecycle,
    PermitEvent,
    GasAnalysis,
    EnterpriseState,
    EnterpriseOps,
    InventoryLevel,
    StaffingSnapshot,
    TrainingRecord,
    CommitmentDaily,
    RegionEpidemic,
    InspectionResult,
    WarningFeedback,
}

impl Topic {
    pub const ALL: [Topic; 15] = [
        Topic::Registry,
        Topic::SensorReading,
        Topic::SensorStatus,
        Topic::AlarmLifecycle,
        Topic::PermitEvent,
        Topic::GasAnalysis,
        Topic::EnterpriseState,
        Topic::EnterpriseOps,
        Topic::InventoryLevel,
        Topic::StaffingSnapshot,
        Topic::TrainingRecord,
        Topic::CommitmentDaily,
        Topic::RegionEpidemic,
        Topic::InspectionResult,
        Topic::WarningFeedback,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Topic::Registry => "registry",
            Topic::SensorReading => "sensor.reading",
            Topic::SensorStatus => "sensor.status",
            Topic::AlarmLifecycle => "alarm.lifecycle",
            Topic::PermitEvent => "permit.event",
            Topic::GasAnalysis => "gas.analysis",
            Topic::EnterpriseState => "enterprise.state",
            Topic::EnterpriseOps => "enterprise.ops",
            Topic::InventoryLevel => "inventory.level",
            Topic::StaffingSnapshot => "staffing.snapshot",
            Topic::TrainingRecord => "training.record",
            Topic::CommitmentDaily => "commitment.daily",
            Topic::RegionEpidemic => "region.epidemic",
            Topic::InspectionResult => "inspection.result",
            Topic::WarningFeedback => "warning.feedback",
        }
    }

    pub fn from_name(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// How a topic's event time relates to the watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePolicy {
    /// Machine-generated measurements aggregated in event-time windows: they drive the
    /// watermark, and one behind it is late (routed to the late output, not applied).
    Windowed,
    /// Business records (permits, analyses, status, ...) kept as time-ordered state. They drive
    /// the watermark, but one behind it is still applied in its place: manual entry and lab
    /// results routinely arrive minutes or hours after the fact, and dropping them would blind
    /// the rules.
    Recorded,
    /// Validity dates (a staffing snapshot's day, an epidemic level's start) that may lie days
    /// in the past or future: they neither drive the watermark nor can be late.
    Dated,
}

impl Topic {
    pub fn time_policy(self) -> TimePolicy {
        match self {
            Topic::SensorReading | Topic::SensorStatus | Topic::AlarmLifecycle => {
                TimePolicy::Windowed
            }
            Topic::StaffingSnapshot | Topic::RegionEpidemic => TimePolicy::Dated,
            _ => TimePolicy::Recorded,
        }
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// By its wire name, so a checkpoint reads the same whatever the enum's order.
impl serde::Serialize for Topic {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Topic {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Topic::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown topic {name:?}")))
    }
}
