//! Rule hits: the rows a rule returns, checked against the result contract and turned into
//! (rule, enterprise, subject, colour, value, threshold, message, evidence).
//!
//! Contract: `enterprise_id` and `subject` are required strings; `color` (a string: red,
//! orange, yellow, blue) overrides the rule's severity per row; `value` and `threshold` are
//! numbers; `message` is a string; every other column becomes evidence.

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::ScalarValue;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::EventTime;

use super::color::Color;

/// One row of a rule's result.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct RuleHit {
    pub rule_id: String,
    pub enterprise_id: String,
    pub subject: String,
    pub color: Color,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub evidence: Map<String, Value>,
}

const REQUIRED: [&str; 2] = ["enterprise_id", "subject"];

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Checks a rule's output schema against the contract; the message names the column.
pub fn check_contract(schema: &Schema) -> Result<(), String> {
    for name in REQUIRED {
        let field = schema
            .field_with_name(name)
            .map_err(|_| format!("the result must have a `{name}` column"))?;
        if !is_string(field.data_type()) {
            return Err(format!(
                "`{name}` must be a string, not {}",
                field.data_type()
            ));
        }
    }
    for field in schema.fields() {
        let t = field.data_type();
        let ok = match field.name().as_str() {
            "color" | "message" => is_string(t) || *t == DataType::Null,
            "value" | "threshold" => t.is_numeric() || *t == DataType::Null,
            _ => true,
        };
        if !ok {
            return Err(format!("`{}` cannot be {t}", field.name()));
        }
    }
    let mut names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("column `{}` appears twice", w[0]));
    }
    Ok(())
}

/// A row whose values break the contract (a NULL id, an unknown colour).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("row {row}: {message}")]
pub struct ContractViolation {
    pub row: usize,
    pub message: String,
}

/// The hits of one result batch; rows that break the contract are returned apart.
pub fn hits_of(
    rule_id: &str,
    severity: Color,
    batch: &RecordBatch,
    out: &mut Vec<RuleHit>,
) -> Vec<ContractViolation> {
    let schema = batch.schema();
    let column = |name: &str| schema.index_of(name).ok().map(|i| batch.column(i));
    let strings = |name: &str| column(name).and_then(|c| cast(c, &DataType::Utf8).ok());
    let numbers = |name: &str| column(name).and_then(|c| cast(c, &DataType::Float64).ok());
    let (Some(enterprise), Some(subject)) = (strings("enterprise_id"), strings("subject")) else {
        return vec![ContractViolation {
            row: 0,
            message: "enterprise_id and subject are required".into(),
        }];
    };
    let (color, message) = (strings("color"), strings("message"));
    let (value, threshold) = (numbers("value"), numbers("threshold"));
    let evidence: Vec<(&str, &ArrayRef)> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| !is_contract_column(f.name()))
        .map(|(f, c)| (f.name().as_str(), c))
        .collect();
    let mut violations = Vec::new();
    for row in 0..batch.num_rows() {
        let (Some(e), Some(s)) = (str_at(&enterprise, row), str_at(&subject, row)) else {
            violations.push(ContractViolation {
                row,
                message: "enterprise_id and subject must not be NULL".into(),
            });
            continue;
        };
        let color = match color.as_ref().and_then(|c| str_at(c, row)) {
            None => severity,
            Some(text) => match Color::parse(&text) {
                Some(c) => c,
                None => {
                    violations.push(ContractViolation {
                        row,
                        message: format!("color `{text}` is not red, orange, yellow or blue"),
                    });
                    continue;
                }
            },
        };
        out.push(RuleHit {
            rule_id: rule_id.to_owned(),
            enterprise_id: e,
            subject: s,
            color,
            value: value.as_ref().and_then(|v| f64_at(v, row)),
            threshold: threshold.as_ref().and_then(|v| f64_at(v, row)),
            message: message.as_ref().and_then(|m| str_at(m, row)),
            evidence: evidence
                .iter()
                .map(|(name, c)| ((*name).to_owned(), json_at(c, row)))
                .collect(),
        });
    }
    violations
}

fn is_contract_column(name: &str) -> bool {
    matches!(
        name,
        "enterprise_id" | "subject" | "color" | "value" | "threshold" | "message"
    )
}

fn str_at(array: &ArrayRef, row: usize) -> Option<String> {
    use datafusion::arrow::array::AsArray;
    let a = array.as_string::<i32>();
    (!a.is_null(row)).then(|| a.value(row).to_owned())
}

fn f64_at(array: &ArrayRef, row: usize) -> Option<f64> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Float64Type;
    let a = array.as_primitive::<Float64Type>();
    (!a.is_null(row))
        .then(|| a.value(row))
        .filter(|v| v.is_finite())
}

/// A cell as JSON: numbers, strings, booleans; times as RFC 3339; anything else as text.
fn json_at(array: &ArrayRef, row: usize) -> Value {
    let Ok(scalar) = ScalarValue::try_from_array(array, row) else {
        return Value::Null;
    };
    if scalar.is_null() {
        return Value::Null;
    }
    match scalar {
        ScalarValue::Boolean(Some(b)) => Value::Bool(b),
        ScalarValue::Float64(Some(v)) => number(v),
        ScalarValue::Float32(Some(v)) => number(f64::from(v)),
        ScalarValue::Int64(Some(v)) => Value::from(v),
        ScalarValue::Int32(Some(v)) => Value::from(v),
        ScalarValue::UInt64(Some(v)) => Value::from(v),
        ScalarValue::TimestampMillisecond(Some(ms), _) => {
            Value::String(EventTime::from_millis(ms).to_rfc3339())
        }
        ScalarValue::TimestampSecond(Some(s), _) => {
            Value::String(EventTime::from_millis(s.saturating_mul(1000)).to_rfc3339())
        }
        ScalarValue::TimestampMicrosecond(Some(us), _) => {
            Value::String(EventTime::from_millis(us / 1000).to_rfc3339())
        }
        ScalarValue::TimestampNanosecond(Some(ns), _) => {
            Value::String(EventTime::from_millis(ns / 1_000_000).to_rfc3339())
        }
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Value::String(s),
        other => Value::String(other.to_string()),
    }
}

fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}
