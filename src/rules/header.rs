//! The metadata header of a rule file: `-- key: value` lines before the query.
//!
//! ```sql
//! -- id: r02_gas_leak
//! -- title: Flammable or toxic gas at or above an alarm setpoint
//! -- severity: orange          default colour; a `color` column overrides it per row
//! -- for: 30s                  must hold this long (event time) before a warning fires
//! -- clear_after: 60s          must be false this long before it resolves
//! -- keep_firing_for: 10m      once fired, stay firing at least this long
//! -- basis: GB/T 50493-2019 5.5.2
//! -- suggested_action: ...
//! -- every: 1m                 evaluate at most this often (default: every tick)
//! -- mode: alert               `alert` (default) or `shadow` (evaluated and counted, never warned)
//! ```
//! Keys are lower-case; a lower-case `key:` that vigil does not know is an error (a typo must
//! not silently drop a setting). Other comment lines are prose and ignored.

use std::time::Duration;

use super::color::Color;
use super::RuleFileError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Alert,
    Shadow,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RuleHeader {
    pub id: String,
    pub title: String,
    pub severity: Color,
    #[serde(with = "humantime_serde")]
    pub r#for: Duration,
    #[serde(with = "humantime_serde")]
    pub clear_after: Duration,
    #[serde(with = "humantime_serde")]
    pub keep_firing_for: Duration,
    pub basis: String,
    pub suggested_action: Option<String>,
    #[serde(with = "humantime_serde")]
    pub every: Option<Duration>,
    pub mode: Mode,
    /// The line where the query starts (1-based), for error positions.
    pub body_line: usize,
}

const KEYS: [&str; 10] = [
    "id",
    "title",
    "severity",
    "for",
    "clear_after",
    "keep_firing_for",
    "basis",
    "suggested_action",
    "every",
    "mode",
];

/// Parses the header; the query is what follows it.
pub fn parse(text: &str) -> Result<RuleHeader, RuleFileError> {
    let mut fields: Vec<(&str, &str, usize)> = Vec::new();
    let mut body_line = text.lines().count() + 1;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            body_line = i + 1;
            break;
        };
        if let Some((key, value)) = key_value(comment) {
            if !KEYS.contains(&key) {
                return Err(at(i + 1, format!("unknown header key `{key}`")));
            }
            if fields.iter().any(|(k, _, _)| *k == key) {
                return Err(at(i + 1, format!("header key `{key}` given twice")));
            }
            fields.push((key, value, i + 1));
        }
    }
    build(&fields, body_line)
}

/// `key: value` where key is a lower-case identifier.
fn key_value(comment: &str) -> Option<(&str, &str)> {
    let (key, value) = comment.trim().split_once(':')?;
    let is_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit());
    is_key.then(|| (key, value.trim()))
}

fn at(line: usize, message: String) -> RuleFileError {
    RuleFileError { line, message }
}

fn build(fields: &[(&str, &str, usize)], body_line: usize) -> Result<RuleHeader, RuleFileError> {
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, v, l)| (*v, *l))
    };
    let required = |key: &str| {
        get(key)
            .filter(|(v, _)| !v.is_empty())
            .ok_or_else(|| at(1, format!("header needs `-- {key}: ...`")))
    };
    let duration = |key: &str| -> Result<Option<Duration>, RuleFileError> {
        get(key)
            .map(|(v, line)| {
                humantime::parse_duration(first_word(v))
                    .map_err(|e| at(line, format!("`{key}`: {e}")))
            })
            .transpose()
    };
    let (id, id_line) = required("id")?;
    check_id(id).map_err(|m| at(id_line, m))?;
    let (severity, severity_line) = required("severity")?;
    let severity = Color::parse(first_word(severity)).ok_or_else(|| {
        at(
            severity_line,
            format!("severity `{severity}`: use red, orange, yellow or blue"),
        )
    })?;
    let mode = match get("mode").map(|(v, l)| (first_word(v), l)) {
        None | Some(("alert", _)) => Mode::Alert,
        Some(("shadow", _)) => Mode::Shadow,
        Some((other, line)) => {
            return Err(at(line, format!("mode `{other}`: use alert or shadow")))
        }
    };
    Ok(RuleHeader {
        id: id.to_owned(),
        title: required("title")?.0.to_owned(),
        severity,
        r#for: duration("for")?.unwrap_or_default(),
        clear_after: duration("clear_after")?.unwrap_or_default(),
        keep_firing_for: duration("keep_firing_for")?.unwrap_or_default(),
        basis: required("basis")?.0.to_owned(),
        suggested_action: get("suggested_action").map(|(v, _)| v.to_owned()),
        every: duration("every")?,
        mode,
        body_line,
    })
}

fn first_word(value: &str) -> &str {
    value.split_whitespace().next().unwrap_or("")
}

/// `r<NN>_<name>`: the DOMAIN.md rule number first, so coverage can be counted.
fn check_id(id: &str) -> Result<(), String> {
    let valid = id.len() > 4
        && id.starts_with('r')
        && id[1..3].chars().all(|c| c.is_ascii_digit())
        && id.as_bytes()[3] == b'_'
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "id `{id}`: use r<NN>_<snake_case>, NN the DOMAIN.md rule number (r02_gas_leak)"
        ))
    }
}

impl RuleHeader {
    /// The DOMAIN.md rule number the id starts with.
    pub fn rule_number(&self) -> u32 {
        self.id[1..3].parse().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "-- id: r02_gas_leak\n-- title: Gas\n-- severity: orange  default\n\
        -- for: 30s\n-- basis: GB/T 50493\n-- A prose line: ignored\n\nSELECT 1";

    #[test]
    fn reads_the_header_and_finds_the_body() {
        let h = parse(GOOD).unwrap();
        assert_eq!(h.id, "r02_gas_leak");
        assert_eq!(h.severity, Color::Orange);
        assert_eq!(h.r#for, Duration::from_secs(30));
        assert_eq!(h.clear_after, Duration::ZERO);
        assert_eq!(h.mode, Mode::Alert);
        assert_eq!(h.body_line, 8);
        assert_eq!(h.rule_number(), 2);
    }

    #[test]
    fn a_typo_in_a_key_is_an_error_with_its_line() {
        let text = GOOD.replace("-- for:", "-- fro:");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.message.contains("fro"), "{err:?}");
    }

    #[test]
    fn ids_carry_the_rule_number() {
        for bad in ["gas_leak", "r2_gas", "r02gas", "R02_gas", "r02_Gas"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        assert!(check_id("r17_commitment_missing").is_ok());
    }

    #[test]
    fn required_keys_and_values_are_checked() {
        assert!(parse("-- id: r01_x\n-- title: t\n-- basis: b\nSELECT 1").is_err());
        let bad = GOOD.replace("orange", "purple");
        assert_eq!(parse(&bad).unwrap_err().line, 3);
        let bad = GOOD.replace("30s", "soon");
        assert_eq!(parse(&bad).unwrap_err().line, 4);
    }
}
