//! Bytes → typed event. Turns serde's errors into stable reason codes; checks nothing that
//! needs more than the bytes themselves (that is `validate`).

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::error::Category;

use crate::model::*;

use super::reason::{ReasonCode, Rejection};

/// Decodes the payload of a record of `topic`.
pub fn decode(topic: Topic, payload: &[u8]) -> Result<Event<'_>, Rejection> {
    if first_byte(payload) != Some(b'{') {
        return Err(not_an_object(payload));
    }
    let event = match topic {
        Topic::Registry => Event::Registry(decode_registry(payload)?),
        Topic::SensorReading => Event::SensorReading(parse(payload)?),
        Topic::SensorStatus => Event::SensorStatus(parse(payload)?),
        Topic::AlarmLifecycle => Event::AlarmLifecycle(parse(payload)?),
        Topic::PermitEvent => Event::PermitEvent(parse(payload)?),
        Topic::GasAnalysis => Event::GasAnalysis(parse(payload)?),
        Topic::EnterpriseState => Event::EnterpriseStatus(parse(payload)?),
        Topic::EnterpriseOps => Event::EnterpriseOps(parse(payload)?),
        Topic::InventoryLevel => Event::InventoryLevel(parse(payload)?),
        Topic::StaffingSnapshot => Event::StaffingSnapshot(parse(payload)?),
        Topic::TrainingRecord => Event::TrainingRecord(parse(payload)?),
        Topic::CommitmentDaily => Event::CommitmentDaily(parse(payload)?),
        Topic::RegionEpidemic => Event::RegionEpidemic(parse(payload)?),
        Topic::InspectionResult => Event::InspectionResult(parse(payload)?),
        Topic::WarningFeedback => Event::WarningFeedback(parse(payload)?),
    };
    Ok(event)
}

fn parse<'a, T: serde::Deserialize<'a>>(payload: &'a [u8]) -> Result<T, Rejection> {
    serde_json::from_slice(payload).map_err(|e| classify(&e, payload))
}

fn first_byte(payload: &[u8]) -> Option<u8> {
    payload.iter().copied().find(|b| !b.is_ascii_whitespace())
}

fn not_an_object(payload: &[u8]) -> Rejection {
    match serde_json::from_slice::<IgnoredAny>(payload) {
        Ok(_) => Rejection::new(ReasonCode::NotObject, "the event is not a JSON object"),
        Err(e) => classify(&e, payload),
    }
}

/// Maps a serde_json error to a reason code. Relies on serde's stable message prefixes
/// ("missing field", "unknown variant", "invalid type", ...) and on our own for times.
pub fn classify(err: &serde_json::Error, payload: &[u8]) -> Rejection {
    let message = err.to_string();
    let code = match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => syntax_code(&message, payload),
        Category::Data => data_code(&message),
    };
    Rejection::new(code, message)
}

fn syntax_code(message: &str, payload: &[u8]) -> ReasonCode {
    if message.starts_with("number out of range") {
        ReasonCode::NonFiniteNumber
    } else if std::str::from_utf8(payload).is_err() {
        ReasonCode::NotUtf8
    } else {
        ReasonCode::NotJson
    }
}

fn data_code(message: &str) -> ReasonCode {
    if message.starts_with("missing field") {
        ReasonCode::MissingField
    } else if message.starts_with("unknown variant") {
        ReasonCode::UnknownEnum
    } else if message.starts_with(time::BAD_TIMESTAMP) {
        ReasonCode::BadTimestamp
    } else if message.starts_with("invalid value: integer `-") {
        ReasonCode::NotPhysical
    } else {
        ReasonCode::WrongType
    }
}

fn decode_registry(payload: &[u8]) -> Result<RegistryChange, Rejection> {
    let record: RegistryRecord = parse(payload)?;
    if record.id.is_empty() {
        return Err(Rejection::new(
            ReasonCode::BadIdentifier,
            "registry id is empty",
        ));
    }
    if record.deleted {
        return Ok(RegistryChange::Deleted {
            entity: record.entity,
            id: record.id,
        });
    }
    let data = record.data.as_ref().ok_or_else(|| {
        Rejection::new(
            ReasonCode::MissingField,
            "missing field `data` (not a tombstone)",
        )
    })?;
    let change = match record.entity {
        EntityKind::Enterprise => RegistryChange::Enterprise(typed(data)?),
        EntityKind::HazardUnit => RegistryChange::HazardUnit(typed(data)?),
        EntityKind::Equipment => RegistryChange::Equipment(typed(data)?),
        EntityKind::Indicator => RegistryChange::Indicator(typed(data)?),
        EntityKind::Area => RegistryChange::Area(typed(data)?),
        EntityKind::MonitorModel => RegistryChange::MonitorModel(typed(data)?),
        EntityKind::IndicatorBaseline => RegistryChange::IndicatorBaseline(typed(data)?),
    };
    let data_id = registry_data_id(&change);
    if data_id != record.id {
        return Err(Rejection::new(
            ReasonCode::InconsistentFields,
            format!(
                "registry id {:?} differs from the id in data {data_id:?}",
                record.id
            ),
        ));
    }
    Ok(change)
}

fn typed<T: DeserializeOwned>(data: &serde_json::Value) -> Result<Box<T>, Rejection> {
    if !data.is_object() {
        return Err(Rejection::new(
            ReasonCode::NotObject,
            "registry `data` is not an object",
        ));
    }
    T::deserialize(data)
        .map(Box::new)
        .map_err(|e| Rejection::new(data_code(&e.to_string()), e.to_string()))
}

fn registry_data_id(change: &RegistryChange) -> &str {
    match change {
        RegistryChange::Enterprise(e) => &e.enterprise_id,
        RegistryChange::HazardUnit(h) => &h.hazard_id,
        RegistryChange::Equipment(e) => &e.equip_id,
        RegistryChange::Indicator(i) => &i.target_code,
        RegistryChange::Area(a) => &a.area_id,
        RegistryChange::MonitorModel(m) => &m.model_id,
        RegistryChange::IndicatorBaseline(b) => &b.target_code,
        RegistryChange::Deleted { id, .. } => id,
    }
}

/// The enterprise a registry change belongs to (`None` for a tombstone: its key says).
pub fn registry_enterprise(change: &RegistryChange) -> Option<&str> {
    Some(match change {
        RegistryChange::Enterprise(e) => &e.enterprise_id,
        RegistryChange::HazardUnit(h) => &h.enterprise_id,
        RegistryChange::Equipment(e) => &e.enterprise_id,
        RegistryChange::Indicator(i) => &i.enterprise_id,
        RegistryChange::Area(a) => &a.enterprise_id,
        RegistryChange::MonitorModel(m) => &m.enterprise_id,
        RegistryChange::IndicatorBaseline(b) => &b.enterprise_id,
        RegistryChange::Deleted { .. } => return None,
    })
}
