//! Enumerations of the wire model. On the wire every enum is a lower_snake_case string.

use serde::{Deserialize, Serialize};

/// Declares a wire enum whose variants serialise as the given lower_snake_case names.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        impl $name {
            /// The wire name of this value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)+ }
            }
        }
    };
}

wire_enum!(
    /// Quality of one reading as reported by the source.
    Quality { Good = "good", Uncertain = "uncertain", Bad = "bad" }
);
wire_enum!(
    /// Where the reading was produced.
    ReadingSource { Edge = "edge", Cloud = "cloud" }
);
wire_enum!(
    /// What an indicator measures.
    IndicatorKind { Level = "level", Temp = "temp", Press = "press", Flow = "flow", FlammableGas = "flammable_gas", ToxicGas = "toxic_gas", O2 = "o2", Composition = "composition" }
);
wire_enum!(
    /// Alarm priority of an indicator on its console.
    Priority { Low = "low", Med = "med", High = "high" }
);
wire_enum!(
    /// NAMUR NE 107 device status.
    Ne107 { Normal = "normal", Failure = "failure", CheckFunction = "check_function", OffSpec = "off_spec", MaintReq = "maint_req" }
);
wire_enum!(
    /// Transition of an alarm in its lifecycle.
    AlarmTransition { Raise = "raise", Escalate = "escalate", Deescalate = "deescalate", Clear = "clear", Shelve = "shelve", Unshelve = "unshelve" }
);
wire_enum!(
    /// Alarm level: high, high-high, low, low-low.
    AlarmLevel { H = "h", Hh = "hh", L = "l", Ll = "ll" }
);
wire_enum!(
    /// Who raised an alarm.
    AlarmOrigin { EnterpriseDcs = "enterprise_dcs", Engine = "engine" }
);
wire_enum!(
    /// How an alarm was cleared.
    DispelType { Auto = "auto", Manual = "manual" }
);
wire_enum!(
    /// The eight special operations of GB 30871.
    PermitType { Hot = "hot", Confined = "confined", Blind = "blind", Height = "height", Lift = "lift", TempPower = "temp_power", Excavate = "excavate", Road = "road" }
);
wire_enum!(
    /// Hot-work grade (GB 30871 5.1).
    HotGrade { Special = "special", L1 = "l1", L2 = "l2" }
);
wire_enum!(
    /// Transition of a special-work permit.
    PermitTransition { Planned = "planned", Issued = "issued", Started = "started", Suspended = "suspended", Resumed = "resumed", Closed = "closed", Cancelled = "cancelled", Changed = "changed" }
);
wire_enum!(
    /// Method of a gas analysis.
    AnalysisMethod { Portable = "portable", Lab = "lab", Continuous = "continuous" }
);
wire_enum!(
    /// Production state of an enterprise.
    ProductionState { Shutdown = "shutdown", PreStartCheck = "pre_start_check", Startup = "startup", Running = "running", ShuttingDown = "shutting_down", Trial = "trial" }
);
wire_enum!(
    /// Regional epidemic level.
    EpidemicLevel { High = "high", Medium = "medium", Low = "low" }
);
wire_enum!(
    /// How an inspection was carried out.
    InspectionMode { Onsite = "onsite", Video = "video", DocReview = "doc_review" }
);
wire_enum!(
    /// The quota pool an inspection belongs to.
    InspectionPool { SelfCheck = "self_check", HotWork = "hot_work", Risk = "risk", Mandatory = "mandatory" }
);
wire_enum!(
    /// Severity of an inspection finding.
    FindingSeverity { General = "general", MajorHidden = "major_hidden" }
);
wire_enum!(
    /// Action taken on a warning.
    FeedbackAction { Ack = "ack", Verified = "verified", FalseAlarm = "false_alarm", Maintenance = "maintenance", Resolved = "resolved", Defer = "defer" }
);
wire_enum!(
    /// Kind of a hazard unit.
    HazardKind { Production = "production", Storage = "storage" }
);
wire_enum!(
    /// Type of a piece of equipment.
    EquipmentType { Tank = "tank", GasDetector = "gas_detector", ProcessUnit = "process_unit", Warehouse = "warehouse" }
);
wire_enum!(
    /// Hazard class of an area.
    HazardClass { FireExplosion = "fire_explosion", General = "general" }
);
wire_enum!(
    /// Kind of a registry entity.
    EntityKind { Enterprise = "enterprise", HazardUnit = "hazard_unit", Equipment = "equipment", Indicator = "indicator", Area = "area", MonitorModel = "monitor_model", IndicatorBaseline = "indicator_baseline" }
);
