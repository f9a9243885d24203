//! Tables that are not built from an enterprise's state: `clock`, `regions`, `open_warnings`,
//! and `active_warnings` (the rules' episodes, kept per shard of their enterprises).

use std::hash::BuildHasher;

use chrono::{Datelike, Timelike};

use crate::model::{EpidemicLevel, EventTime};
use crate::rules::episodes::ActiveWarning;
use crate::rules::Color;

use super::writer::{ColType::*, Column, TableWriter};

pub const CLOCK: &[Column] = &[
    // The event-time now: the watermark the tick evaluates at.
    ("now", Ts),
    // The same instant on the local wall clock (the site's zone, `rules.utc_offset`).
    ("local_date", Date),
    ("local_hour", I64),
    ("local_minute_of_day", I64),
    // ISO weekday, 1 = Monday … 7 = Sunday.
    ("local_weekday", I64),
    // The UTC instant at which the local day began.
    ("local_day_start", Ts),
    ("utc_offset_minutes", I64),
];

pub fn clock(now: EventTime, utc_offset_minutes: i32, w: &mut TableWriter) {
    let offset_ms = i64::from(utc_offset_minutes) * 60_000;
    let local_ms = now.millis().saturating_add(offset_ms);
    let day_ms = 86_400_000;
    let local_days = local_ms.div_euclid(day_ms);
    let local = chrono::DateTime::from_timestamp_millis(local_ms).unwrap_or_default();
    w.ts(Some(now))
        .date(Some(local_days as i32))
        .i64(Some(i64::from(local.hour())))
        .i64(Some(i64::from(local.hour() * 60 + local.minute())))
        .i64(Some(i64::from(local.weekday().number_from_monday())))
        .ts(Some(EventTime::from_millis(
            local_days * day_ms - offset_ms,
        )))
        .i64(Some(i64::from(utc_offset_minutes)));
}

pub const REGIONS: &[Column] = &[("region_id", Str), ("epidemic_level", Str), ("since", Ts)];

pub fn regions(levels: &[(String, EpidemicLevel, EventTime)], w: &mut TableWriter) {
    for (region, level, since) in levels {
        w.str(Some(region))
            .str(Some(level.as_str()))
            .ts(Some(*since));
    }
}

pub const ACTIVE_WARNINGS: &[Column] = &[
    ("id", Str),
    ("rule_id", Str),
    ("enterprise_id", Str),
    ("subject", Str),
    ("color", Str),
    ("first_seen", Ts),
    ("last_seen", Ts),
];

pub fn active_warnings<'a>(active: impl Iterator<Item = &'a ActiveWarning>, w: &mut TableWriter) {
    for a in active {
        let names = [&a.id, &a.rule_id, &a.enterprise_id, &a.subject];
        warning_columns(w, names, a.color, a.first_seen).ts(Some(a.last_seen));
    }
}

/// A print of what an `active_warnings` row shows: all of it, or all but `last_seen`.
pub fn episode_print(a: &ActiveWarning, last_seen: bool) -> u64 {
    let shown = (
        (&a.id, &a.rule_id, &a.enterprise_id, &a.subject),
        a.color.as_str(),
        (
            a.first_seen.millis(),
            last_seen.then_some(a.last_seen.millis()),
        ),
    );
    rustc_hash::FxBuildHasher.hash_one(shown)
}

/// The columns both warning tables begin with: `id`, `rule_id`, `enterprise_id`, `subject`,
/// `color`, `first_seen`.
fn warning_columns<'w>(
    w: &'w mut TableWriter,
    names: [&String; 4],
    color: Color,
    first_seen: EventTime,
) -> &'w mut TableWriter {
    for name in names {
        w.str(Some(name));
    }
    w.str(Some(color.as_str())).ts(Some(first_seen))
}

/// A warning as it was published: what R7 escalates and feedback answers, by its id.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenWarning {
    pub id: String,
    pub rule_id: String,
    pub enterprise_id: String,
    pub subject: String,
    pub color: Color,
    pub first_seen: EventTime,
    pub fired_at: EventTime,
    /// The condition has stopped holding; the warning resolves after the rule's `clear_after`.
    pub clearing: bool,
}

pub const OPEN_WARNINGS: &[Column] = &[
    // The warning's id, as published and as feedback names it.
    ("id", Str),
    ("rule_id", Str),
    ("enterprise_id", Str),
    ("subject", Str),
    // The most urgent colour it reached.
    ("color", Str),
    ("first_seen", Ts),
    ("fired_at", Ts),
    ("clearing", Bool),
];

pub fn open_warnings(open: &[OpenWarning], w: &mut TableWriter) {
    for o in open {
        let names = [&o.id, &o.rule_id, &o.enterprise_id, &o.subject];
        warning_columns(w, names, o.color, o.first_seen)
            .ts(Some(o.fired_at))
            .bool(Some(o.clearing));
    }
}
