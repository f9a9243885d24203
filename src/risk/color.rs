//! The enterprise's four-colour code: the band of its index, raised to the floor its flags and
//! warnings set, with hysteresis: a colour goes up at once, and down only after the index has
//! stayed below (band − margin) for the configured time, with no floor holding it.

use serde::Serialize;

use crate::model::EventTime;
use crate::rules::Color;

use super::config::Bands;
use super::score::Floor;

/// The colour an index falls in, without floors or hysteresis.
pub fn band(eri: f64, bands: &Bands) -> Color {
    if eri >= bands.red {
        Color::Red
    } else if eri >= bands.orange {
        Color::Orange
    } else if eri >= bands.yellow {
        Color::Yellow
    } else {
        Color::Blue
    }
}

/// The lower bound of a colour's band.
fn lower_bound(color: Color, bands: &Bands) -> f64 {
    match color {
        Color::Red => bands.red,
        Color::Orange => bands.orange,
        Color::Yellow => bands.yellow,
        Color::Blue => f64::NEG_INFINITY,
    }
}

/// The colour shown, since when, and since when it has been due to go down.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ColorState {
    pub color: Color,
    pub since: EventTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downgrade_pending_since: Option<EventTime>,
}

impl ColorState {
    pub fn first(eri: f64, floor: Option<&Floor>, now: EventTime, bands: &Bands) -> Self {
        ColorState {
            color: target(eri, floor, bands),
            since: now,
            downgrade_pending_since: None,
        }
    }

    /// Moves to the colour of `eri` and `floor` at `now`, with hysteresis on the way down.
    pub fn step(&mut self, eri: f64, floor: Option<&Floor>, now: EventTime, bands: &Bands) {
        let target = target(eri, floor, bands);
        if target >= self.color {
            if target > self.color {
                self.color = target;
                self.since = now;
            }
            self.downgrade_pending_since = None;
            return;
        }
        if eri >= lower_bound(self.color, bands) - bands.downgrade_margin {
            self.downgrade_pending_since = None;
            return;
        }
        let pending = *self.downgrade_pending_since.get_or_insert(now);
        if now.millis() - pending.millis() >= bands.downgrade_after.as_millis() as i64 {
            self.color = target;
            self.since = now;
            self.downgrade_pending_since = None;
        }
    }
}

fn target(eri: f64, floor: Option<&Floor>, bands: &Bands) -> Color {
    let banded = band(eri, bands);
    floor.map_or(banded, |f| banded.max(f.color))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn bands() -> Bands {
        crate::config::Config::default().risk.bands
    }

    fn at(hours: f64) -> EventTime {
        EventTime::from_millis((hours * HOUR as f64) as i64)
    }

    #[test]
    fn bands_follow_the_domain() {
        let b = bands();
        assert_eq!(band(70.0, &b), Color::Red);
        assert_eq!(band(69.9, &b), Color::Orange);
        assert_eq!(band(50.0, &b), Color::Orange);
        assert_eq!(band(49.9, &b), Color::Yellow);
        assert_eq!(band(30.0, &b), Color::Yellow);
        assert_eq!(band(29.9, &b), Color::Blue);
    }

    #[test]
    fn a_colour_goes_up_at_once_and_down_only_after_24h_below_the_band() {
        let b = bands();
        let mut state = ColorState::first(20.0, None, at(0.0), &b);
        assert_eq!(state.color, Color::Blue);
        state.step(72.0, None, at(1.0), &b);
        assert_eq!((state.color, state.since), (Color::Red, at(1.0)));
        // Below the band but within the margin: no clock starts.
        state.step(66.0, None, at(2.0), &b);
        assert_eq!(state.downgrade_pending_since, None);
        // Below band − 5: the clock starts, and 23.9 h later it is still red.
        state.step(40.0, None, at(3.0), &b);
        state.step(40.0, None, at(26.9), &b);
        assert_eq!(state.color, Color::Red);
        // 24 h below: down to the index's own colour.
        state.step(40.0, None, at(27.0), &b);
        assert_eq!((state.color, state.since), (Color::Yellow, at(27.0)));
    }

    #[test]
    fn a_return_into_the_band_restarts_the_downgrade_clock() {
        let b = bands();
        let mut state = ColorState::first(55.0, None, at(0.0), &b);
        state.step(30.0, None, at(1.0), &b);
        state.step(48.0, None, at(20.0), &b);
        state.step(30.0, None, at(24.5), &b);
        state.step(30.0, None, at(48.0), &b);
        assert_eq!(state.color, Color::Orange);
        state.step(30.0, None, at(48.5), &b);
        assert_eq!(state.color, Color::Yellow);
    }

    #[test]
    fn a_floor_raises_the_colour_and_holds_it_up() {
        let b = bands();
        let red = Floor {
            color: Color::Red,
            reason: "direct_red_flag".into(),
        };
        let mut state = ColorState::first(10.0, Some(&red), at(0.0), &b);
        assert_eq!(state.color, Color::Red);
        state.step(10.0, Some(&red), at(48.0), &b);
        assert_eq!(state.color, Color::Red);
        // The flag is lifted: the colour still waits 24 h.
        state.step(10.0, None, at(49.0), &b);
        state.step(10.0, None, at(72.0), &b);
        assert_eq!(state.color, Color::Red);
        state.step(10.0, None, at(73.0), &b);
        assert_eq!(state.color, Color::Blue);
    }
}
