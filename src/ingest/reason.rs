//! Why a record was refused: a stable machine code (the `reason_code` of a dead letter and the
//! `reason` label of `vigil_ingest_rejected_total`) and a human explanation.

use serde::Serialize;

/// Stable reason codes. Never rename one: dashboards and alert rules match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The bytes are not JSON (syntax error, truncated, trailing garbage).
    NotJson,
    /// The bytes are not UTF-8.
    NotUtf8,
    /// The JSON is not an object.
    NotObject,
    /// A replay line whose envelope (`topic`, `key`, `value`) is malformed.
    BadEnvelope,
    /// The topic is not one vigil consumes.
    UnknownTopic,
    /// The Kafka message has no key (inputs are keyed by enterprise id).
    MissingKey,
    /// The key differs from the event's enterprise id (region id for `region.epidemic`).
    KeyMismatch,
    /// The message is larger than `ingest.max_message_bytes`.
    Oversized,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong JSON type or an unusable value for its type.
    WrongType,
    /// An enum field holds a value outside its set.
    UnknownEnum,
    /// A number overflows to infinity or is otherwise not finite.
    NonFiniteNumber,
    /// A value no instrument or record could truly hold (O₂ above 100 % vol, a negative
    /// concentration or quantity, a latitude of 200°).
    NotPhysical,
    /// A value outside its documented domain (a score above 100, a hazard level of 7).
    OutOfDomain,
    /// Fields contradict each other (planned end before start, l1 above l2, range inverted).
    InconsistentFields,
    /// An enterprise id that is not 6-digit city code + 5-digit serial, or an empty id.
    BadIdentifier,
    /// A time that is neither RFC 3339 nor epoch milliseconds.
    BadTimestamp,
    /// A time before 2000-01-01.
    TimestampTooOld,
    /// A time too far ahead of the partition's watermark (or of the wall clock, live).
    TimestampInFuture,
    /// The same event (same identity and time) was already applied.
    Duplicate,
    /// A permit transition that cannot follow the permit's current phase.
    ImpossibleTransition,
    /// A reading or status for an indicator the registry never described in time.
    UnknownIndicator,
    /// A record waiting for its registry entry was pushed out of the full pending buffer.
    PendingOverflow,
    /// A bounded state collection is full of entries that cannot be evicted.
    CapacityExceeded,
    /// An output record (warning, risk, late record) the broker refused for good.
    OutputRefused,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 25] = [
        ReasonCode::NotJson,
        ReasonCode::NotUtf8,
        ReasonCode::NotObject,
        ReasonCode::BadEnvelope,
        ReasonCode::UnknownTopic,
        ReasonCode::MissingKey,
        ReasonCode::KeyMismatch,
        ReasonCode::Oversized,
        ReasonCode::MissingField,
        ReasonCode::WrongType,
        ReasonCode::UnknownEnum,
        ReasonCode::NonFiniteNumber,
        ReasonCode::NotPhysical,
        ReasonCode::OutOfDomain,
        ReasonCode::InconsistentFields,
        ReasonCode::BadIdentifier,
        ReasonCode::BadTimestamp,
        ReasonCode::TimestampTooOld,
        ReasonCode::TimestampInFuture,
        ReasonCode::Duplicate,
        ReasonCode::ImpossibleTransition,
        ReasonCode::UnknownIndicator,
        ReasonCode::PendingOverflow,
        ReasonCode::CapacityExceeded,
        ReasonCode::OutputRefused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::NotJson => "not_json",
            ReasonCode::NotUtf8 => "not_utf8",
            ReasonCode::NotObject => "not_object",
            ReasonCode::BadEnvelope => "bad_envelope",
            ReasonCode::UnknownTopic => "unknown_topic",
            ReasonCode::MissingKey => "missing_key",
            ReasonCode::KeyMismatch => "key_mismatch",
            ReasonCode::Oversized => "oversized",
            ReasonCode::MissingField => "missing_field",
            ReasonCode::WrongType => "wrong_type",
            ReasonCode::UnknownEnum => "unknown_enum",
            ReasonCode::NonFiniteNumber => "non_finite_number",
            ReasonCode::NotPhysical => "not_physical",
            ReasonCode::OutOfDomain => "out_of_domain",
            ReasonCode::InconsistentFields => "inconsistent_fields",
            ReasonCode::BadIdentifier => "bad_identifier",
            ReasonCode::BadTimestamp => "bad_timestamp",
            ReasonCode::TimestampTooOld => "timestamp_too_old",
            ReasonCode::TimestampInFuture => "timestamp_in_future",
            ReasonCode::Duplicate => "duplicate",
            ReasonCode::ImpossibleTransition => "impossible_transition",
            ReasonCode::UnknownIndicator => "unknown_indicator",
            ReasonCode::PendingOverflow => "pending_overflow",
            ReasonCode::CapacityExceeded => "capacity_exceeded",
            ReasonCode::OutputRefused => "output_refused",
        }
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused record: its code and what exactly was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct Rejection {
    pub code: ReasonCode,
    pub detail: String,
}

impl Rejection {
    pub fn new(code: ReasonCode, detail: impl Into<String>) -> Self {
        Rejection {
            code,
            detail: detail.into(),
        }
    }
}
