//! A catalogue of bad input, one case per dead-letter reason code, each with the valid
//! records it needs before it (a permit to close, a reading to repeat). Used by the tests
//! (one test per kind), the replay acceptance run and the demo's stream.

use crate::ingest::ReasonCode;
use crate::model::EventTime;

/// A record on the wire: `topic`, `key`, raw `value` bytes (which may be anything).
#[derive(Clone, Debug, PartialEq)]
pub enum RawRecord {
    /// A well-framed record (a Kafka message, or an envelope line in replay).
    Record {
        topic: String,
        key: Option<String>,
        value: Vec<u8>,
    },
    /// A replay line that is not even an envelope.
    Line(Vec<u8>),
}

impl RawRecord {
    fn record(topic: &str, key: &str, value: impl Into<Vec<u8>>) -> Self {
        RawRecord::Record {
            topic: topic.to_owned(),
            key: Some(key.to_owned()),
            value: value.into(),
        }
    }

    /// The replay line for this record. The value bytes are spliced in as they are.
    pub fn to_line(&self) -> Vec<u8> {
        match self {
            RawRecord::Line(line) => line.clone(),
            RawRecord::Record { topic, key, value } => {
                let key = key.as_ref().map_or("null".to_owned(), |k| format!("{k:?}"));
                let mut line =
                    format!("{{\"topic\":{topic:?},\"key\":{key},\"value\":").into_bytes();
                line.extend_from_slice(value);
                line.push(b'}');
                line
            }
        }
    }
}

/// The ids a case may refer to; the indicators must be registered before the cases run.
#[derive(Clone, Debug)]
pub struct CaseContext {
    pub enterprise_id: String,
    pub other_enterprise_id: String,
    /// A registered tank-level indicator.
    pub level_target: String,
    /// A registered oxygen indicator.
    pub o2_target: String,
    /// Event time of the cases; later than anything before them.
    pub at: EventTime,
}

/// One kind of bad input.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: &'static str,
    /// What the bad record must be dead-lettered as (`None`: routed late).
    pub reason: Option<ReasonCode>,
    /// Valid records the case needs first; all must be applied.
    pub setup: Vec<RawRecord>,
    pub bad: RawRecord,
}

fn reading(ctx: &CaseContext, ts: EventTime, target: &str, value: &str) -> Vec<u8> {
    format!(
        r#"{{"ts":"{}","enterprise_id":"{}","target_code":"{target}","value":{value},"quality":"good"}}"#,
        ts.to_rfc3339(),
        ctx.enterprise_id
    )
    .into_bytes()
}

fn permit(ctx: &CaseContext, ts: EventTime, id: &str, transition: &str, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"ts":"{}","permit_id":"{id}","enterprise_id":"{}","type":"hot","hot_grade":"l1","transition":"{transition}"{extra}}}"#,
        ts.to_rfc3339(),
        ctx.enterprise_id
    )
    .into_bytes()
}

/// Every case, in a fixed order. Cases are independent of each other when run in this order.
pub fn catalogue(ctx: &CaseContext) -> Vec<Case> {
    let e = ctx.enterprise_id.as_str();
    let at = ctx.at;
    let level = ctx.level_target.as_str();
    let good = |ms: i64| reading(ctx, at.saturating_add_ms(ms), level, "50.0");
    let rec = |value: Vec<u8>| RawRecord::record("sensor.reading", e, value);
    let case = |name, reason: ReasonCode, bad| Case {
        name,
        reason: Some(reason),
        setup: vec![],
        bad,
    };
    let text = |s: &str| s.as_bytes().to_vec();
    vec![
        case("truncated line", ReasonCode::NotJson, RawRecord::Line(text(r#"{"topic":"sensor.reading","key":"#))),
        case("not utf-8", ReasonCode::NotUtf8, rec(b"{\"ts\":\"\xff\xfe\"}".to_vec())),
        case("array instead of object", ReasonCode::NotObject, rec(text("[1,2,3]"))),
        case("envelope without value", ReasonCode::BadEnvelope, RawRecord::Line(text(r#"{"topic":"sensor.reading","key":"x"}"#))),
        case("unknown topic", ReasonCode::UnknownTopic, RawRecord::record("sensor.readings", e, good(1))),
        case("no key", ReasonCode::MissingKey, RawRecord::Record { topic: "sensor.reading".into(), key: None, value: good(2) }),
        case("key of another enterprise", ReasonCode::KeyMismatch, RawRecord::record("sensor.reading", &ctx.other_enterprise_id, good(3))),
        case("oversized", ReasonCode::Oversized, rec(format!(r#"{{"pad":"{}"}}"#, "x".repeat(1 << 21)).into_bytes())),
        case("missing value", ReasonCode::MissingField, rec(format!(r#"{{"ts":"{}","enterprise_id":"{e}","target_code":"{level}"}}"#, at.to_rfc3339()).into_bytes())),
        case("value is a string", ReasonCode::WrongType, rec(reading(ctx, at.saturating_add_ms(4), level, "\"high\""))),
        case("unknown quality", ReasonCode::UnknownEnum, rec(format!(r#"{{"ts":"{}","enterprise_id":"{e}","target_code":"{level}","value":1,"quality":"excellent"}}"#, at.to_rfc3339()).into_bytes())),
        case("infinite value", ReasonCode::NonFiniteNumber, rec(reading(ctx, at.saturating_add_ms(5), level, "1e400"))),
        case("oxygen above 100 %", ReasonCode::NotPhysical, rec(reading(ctx, at.saturating_add_ms(6), &ctx.o2_target, "130.0"))),
        case("diagnostic score 140", ReasonCode::OutOfDomain, RawRecord::record("registry", e, format!(r#"{{"entity":"enterprise","id":"{e}","data":{{"enterprise_id":"{e}","name":"x","region_id":"330102","city_id":"330100","province_id":"330000","is_hazchem_producer":true,"static_diag_score":140}}}}"#))),
        case("planned end before start", ReasonCode::InconsistentFields, RawRecord::record("permit.event", e, permit(ctx, at, "P-INC", "planned", &format!(r#","planned_start":"{}","planned_end":"{}""#, at.to_rfc3339(), at.saturating_sub_ms(3_600_000).to_rfc3339())))),
        case("malformed enterprise id", ReasonCode::BadIdentifier, RawRecord::record("sensor.reading", "ABC", text(&format!(r#"{{"ts":"{}","enterprise_id":"ABC","target_code":"{level}","value":1}}"#, at.to_rfc3339())))),
        case("unparseable time", ReasonCode::BadTimestamp, rec(text(&format!(r#"{{"ts":"yesterday","enterprise_id":"{e}","target_code":"{level}","value":1}}"#)))),
        case("time before 2000", ReasonCode::TimestampTooOld, rec(reading(ctx, EventTime::from_millis(915_148_800_000), level, "1.0"))),
        Case { name: "time two days ahead", reason: Some(ReasonCode::TimestampInFuture), setup: vec![rec(good(12))], bad: rec(reading(ctx, at.saturating_add_ms(2 * 86_400_000), level, "1.0")) },
        Case { name: "same reading twice", reason: Some(ReasonCode::Duplicate), setup: vec![rec(good(7))], bad: rec(good(7)) },
        Case {
            name: "started after closed",
            reason: Some(ReasonCode::ImpossibleTransition),
            setup: vec![
                RawRecord::record("permit.event", e, permit(ctx, at.saturating_add_ms(8), "P-IMP", "issued", "")),
                RawRecord::record("permit.event", e, permit(ctx, at.saturating_add_ms(9), "P-IMP", "closed", "")),
            ],
            bad: RawRecord::record("permit.event", e, permit(ctx, at.saturating_add_ms(10), "P-IMP", "started", "")),
        },
        case("indicator never registered", ReasonCode::UnknownIndicator, rec(reading(ctx, at.saturating_add_ms(11), &format!("{e}-XX999"), "1.0"))),
        Case { name: "older than the watermark", reason: None, setup: vec![rec(good(60_000))], bad: rec(good(-60_000)) },
    ]
}
