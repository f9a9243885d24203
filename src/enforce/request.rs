//! A plan request as it arrives (the query string of `GET /api/enforcement/plan`, or the
//! flags of `vigil enforce`), bounded and validated into a `PlanRequest`; and the default
//! seed of the draws, a keyed hash of the county and the day.
//!
//! Every parameter is hostile until checked: a county plans at most `MAX_CAPACITY` visits
//! for at most `MAX_TEAMS` teams (issue 19: `teams=4294967295` once asked for 32 GiB).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::plan::PlanRequest;

/// Visits one county's teams can make in one day, at most.
pub const MAX_CAPACITY: u32 = 10_000;
/// Inspector teams of one county, at most.
pub const MAX_TEAMS: u32 = 1_000;
/// Planned days lie within these years.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
/// Longest region id accepted.
const MAX_REGION_LEN: usize = 64;

/// The raw parameters: strings, so that an error can name the one that is wrong.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    pub region: Option<String>,
    pub date: Option<String>,
    pub capacity: Option<String>,
    pub teams: Option<String>,
    pub seed: Option<String>,
}

/// A parameter out of range or malformed (HTTP 400, JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct ParamError {
    pub parameter: &'static str,
    pub message: String,
}

fn bad(parameter: &'static str, message: impl Into<String>) -> ParamError {
    ParamError {
        parameter,
        message: message.into(),
    }
}

impl PlanQuery {
    /// Checks every parameter; a missing seed becomes `default_seed(seed_key, region, date)`.
    pub fn validate(&self, seed_key: &[u8]) -> Result<PlanRequest, ParamError> {
        let region = required("region", &self.region)?;
        let region = check_region(region)?;
        let date = required("date", &self.date)?;
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| bad("date", "expected a date YYYY-MM-DD"))?;
        let capacity = number("capacity", required("capacity", &self.capacity)?)?;
        let teams = match &self.teams {
            None => 1,
            Some(t) => number("teams", t)?,
        };
        let seed = match &self.seed {
            None => None,
            Some(s) => Some(
                s.parse::<u64>()
                    .map_err(|_| bad("seed", "expected an unsigned 64-bit integer"))?,
            ),
        };
        checked(region, date, capacity, teams, seed, seed_key)
    }
}

/// Bounds a request's values (the CLI's flags come here too).
pub fn checked(
    region: &str,
    date: NaiveDate,
    capacity: u64,
    teams: u64,
    seed: Option<u64>,
    seed_key: &[u8],
) -> Result<PlanRequest, ParamError> {
    let region = check_region(region)?;
    if !YEARS.contains(&date.year()) {
        return Err(bad(
            "date",
            format!("must lie in the years {}..={}", YEARS.start(), YEARS.end()),
        ));
    }
    let capacity = within("capacity", capacity, 0, MAX_CAPACITY)?;
    let teams = within("teams", teams, 1, MAX_TEAMS)?;
    Ok(PlanRequest {
        region: region.to_owned(),
        date,
        capacity,
        teams,
        seed: seed.unwrap_or_else(|| default_seed(seed_key, region, date)),
    })
}

/// The draws' seed when none is given: the first 8 bytes of SHA-256 over the key, the county
/// and the day, so that nobody without `enforce.seed_key` can predict the draw, and whoever
/// holds it can reproduce the plan (which records the seed anyway).
pub fn default_seed(key: &[u8], region: &str, date: NaiveDate) -> u64 {
    let mut hash = Sha256::new();
    // Lengths first, so (key, region) pairs cannot run into each other.
    hash.update((key.len() as u64).to_le_bytes());
    hash.update(key);
    hash.update((region.len() as u64).to_le_bytes());
    hash.update(region.as_bytes());
    hash.update(date.to_string().as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

fn required<'a>(parameter: &'static str, value: &'a Option<String>) -> Result<&'a str, ParamError> {
    value
        .as_deref()
        .ok_or_else(|| bad(parameter, "is required"))
}

fn check_region(region: &str) -> Result<&str, ParamError> {
    let fits = !region.is_empty()
        && region.len() <= MAX_REGION_LEN
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fits {
        Ok(region)
    } else {
        Err(bad(
            "region",
            format!("expected 1..={MAX_REGION_LEN} characters of A-Z, a-z, 0-9, '-', '_'"),
        ))
    }
}

fn number(parameter: &'static str, text: &str) -> Result<u64, ParamError> {
    text.parse::<u64>()
        .map_err(|_| bad(parameter, "expected a non-negative integer"))
}

fn within(parameter: &'static str, value: u64, lo: u32, hi: u32) -> Result<u32, ParamError> {
    u32::try_from(value)
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or_else(|| bad(parameter, format!("must lie in {lo}..={hi}, got {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> PlanQuery {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        };
        PlanQuery {
            region: get("region"),
            date: get("date"),
            capacity: get("capacity"),
            teams: get("teams"),
            seed: get("seed"),
        }
    }

    const BASE: [(&str, &str); 3] = [
        ("region", "330102"),
        ("date", "2026-12-07"),
        ("capacity", "5"),
    ];

    fn with(extra: (&str, &str)) -> PlanQuery {
        let mut pairs: Vec<_> = BASE
            .iter()
            .filter(|(k, _)| *k != extra.0)
            .copied()
            .collect();
        pairs.push(extra);
        query(&pairs)
    }

    /// Issue 19, item 1: these once aborted the process or took minutes.
    #[test]
    fn out_of_range_parameters_are_named() {
        for (pair, parameter) in [
            (("teams", "4294967295"), "teams"),
            (("teams", "0"), "teams"),
            (("capacity", "4294967295"), "capacity"),
            (("capacity", "-1"), "capacity"),
            (("date", "9999-12-31"), "date"),
            (("date", "yesterday"), "date"),
            (("region", ""), "region"),
            (("region", "../../etc"), "region"),
            (("seed", "x"), "seed"),
        ] {
            let err = with(pair).validate(b"k").unwrap_err();
            assert_eq!(err.parameter, parameter, "{pair:?}: {err}");
        }
        assert_eq!(query(&[]).validate(b"k").unwrap_err().parameter, "region");
    }

    #[test]
    fn the_default_seed_is_keyed() {
        let a = with(("teams", "2")).validate(b"one key").unwrap();
        let b = with(("teams", "2")).validate(b"another key").unwrap();
        assert_ne!(a.seed, b.seed);
        assert_ne!(a.seed, 0);
        assert_eq!(
            a.seed,
            with(("teams", "3")).validate(b"one key").unwrap().seed
        );
        let given = with(("seed", "17")).validate(b"one key").unwrap();
        assert_eq!(given.seed, 17);
    }
}
