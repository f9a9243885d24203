//! The routine special work of one enterprise on one local day. On a weekday, about a quarter
//! of the enterprises run level-1 hot work in their process area (a fire/explosion area, so
//! level 1 is the right grade by day) from 09:00, half of them for two hours, half until 14:00
//! through a lunch break (suspended 11:30-12:30; the 60-minute break exceeds level 1's
//! 30 minutes, so the area is analysed again before resuming); about one in twenty does
//! special-grade hot work in the tank dike 13:30-15:30 on camera with a continuous analysis;
//! about one in twelve enters a tank (confined space) 14:00-16:00. On any day about one in
//! thirty-three repairs something at 21:00 for two hours: level 1 by its place, special at
//! night, declared upgraded, on camera, analysed continuously.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::EventTime;

use super::{Job, Work, MIN_MS};
use crate::sim::calendar::is_weekday;
use crate::sim::Province;

const HOUR_MS: i64 = 60 * MIN_MS;
const HOT_L1_SHARE: f64 = 0.25;
const SPECIAL_SHARE: f64 = 0.05;
const CONFINED_SHARE: f64 = 0.08;
const NIGHT_SHARE: f64 = 0.03;

pub fn day_jobs(province: &Province, seed: u64, enterprise: usize, day: EventTime) -> Vec<Job> {
    let mut rng = ChaCha8Rng::seed_from_u64(
        seed ^ 0x0407_70b5 ^ ((enterprise as u64) << 20) ^ day.millis() as u64,
    );
    let at = |hours: f64| day.saturating_add_ms((hours * HOUR_MS as f64) as i64);
    let mut out = Vec::new();
    let weekday = is_weekday(day);
    if weekday && rng.random_bool(HOT_L1_SHARE) {
        let job = Job::new(province, enterprise, at(9.0), "HW");
        out.push(if rng.random_bool(0.5) {
            job
        } else {
            Job {
                pause: Some((at(11.5), at(12.5))),
                ..job.lasting(5 * HOUR_MS)
            }
        });
    }
    if weekday && rng.random_bool(SPECIAL_SHARE) {
        let ent = &province.enterprises[enterprise];
        out.push(Job {
            work: Work::HotSpecial { upgraded: false },
            area_id: ent.area.area_id.clone(),
            video: true,
            continuous: true,
            ..Job::new(province, enterprise, at(13.5), "SP")
        });
    }
    if weekday && rng.random_bool(CONFINED_SHARE) {
        let ent = &province.enterprises[enterprise];
        out.push(Job {
            work: Work::Confined,
            area_id: ent.area.area_id.clone(),
            ..Job::new(province, enterprise, at(14.0), "CS")
        });
    }
    if rng.random_bool(NIGHT_SHARE) {
        out.push(Job {
            work: Work::HotSpecial { upgraded: true },
            video: true,
            continuous: true,
            ..Job::new(province, enterprise, at(21.0), "NR")
        });
    }
    out
}
