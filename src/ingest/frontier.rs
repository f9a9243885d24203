//! The robust "newest event time" of one stream: the upper median of the newest times of the
//! last `KEYS` distinct keys (enterprises) heard on it. One enterprise whose clock runs
//! minutes fast, or one backdated record (a late lab result, an edge buffer flushed), moves
//! the maximum but not the median; with one or two enterprises the newest still wins, so a
//! quiet stream's time keeps moving.
//!
//! Each key also keeps what it *claims*: its newest accepted time, or, while its latest records
//! were refused as too far ahead, the newest of those. The future guard judges a record against
//! what the other keys claim, so a backdated first record cannot make every later record "in
//! the future", and a stream that truly jumps ahead (data resuming after a gap) is followed
//! once most keys have jumped. A refused claim lapses at the key's next accepted record: a
//! few enterprises sending corrupt far-future times now and then never add up to a majority
//! (issue 19: once a claim stuck, three of them moved a replay's watermark to 2095).

use crate::model::EventTime;

/// Distinct keys remembered: the median of nine tolerates four fast or backdated enterprises.
pub const KEYS: usize = 9;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct KeyClock {
    key: u64,
    accepted: Option<EventTime>,
    claimed: EventTime,
}

/// Most recently heard key first.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Frontier {
    keys: Vec<KeyClock>,
}

impl Frontier {
    /// A record of `key` at `ts` was accepted.
    pub fn accept(&mut self, key: u64, ts: EventTime) {
        let clock = self.touch(key, ts);
        let accepted = clock.accepted.map_or(ts, |t| t.max(ts));
        clock.accepted = Some(accepted);
        // Whatever it claimed before is superseded by what it was accepted at.
        clock.claimed = accepted;
    }

    /// A record of `key` at `ts` was refused as too far ahead of the other keys: until the
    /// key's next accepted record, it claims that time.
    pub fn claim(&mut self, key: u64, ts: EventTime) {
        let clock = self.touch(key, ts);
        clock.claimed = clock.claimed.max(ts);
    }

    /// Moves `key` to the front (a new key starts claiming `ts`).
    fn touch(&mut self, key: u64, ts: EventTime) -> &mut KeyClock {
        let clock = match self.keys.iter().position(|c| c.key == key) {
            Some(i) => self.keys.remove(i),
            None => {
                self.keys.truncate(KEYS - 1);
                KeyClock {
                    key,
                    accepted: None,
                    claimed: ts,
                }
            }
        };
        self.keys.insert(0, clock);
        &mut self.keys[0]
    }

    /// The upper median of the keys' newest accepted times (`None` before the first).
    pub fn newest(&self) -> Option<EventTime> {
        upper_median(self.keys.iter().filter_map(|c| c.accepted))
    }

    /// What a record of `key` is judged against by the future guard:
    /// - two or more other keys heard: the upper median of their claims (a majority);
    /// - one other key: the newer of its claim and the key's own accepted time, but only if the
    ///   key has a history of its own (a first record against one other is one word against
    ///   another: a backdated first record must not condemn the next enterprise);
    /// - no other key: the key's own accepted time.
    pub fn reference_for(&self, key: u64) -> Option<EventTime> {
        let own = self
            .keys
            .iter()
            .find(|c| c.key == key)
            .and_then(|c| c.accepted);
        let mut others = self.keys.iter().filter(|c| c.key != key).map(|c| c.claimed);
        match (others.next(), others.next()) {
            (None, _) => own,
            (Some(other), None) => own.map(|own| own.max(other)),
            (Some(_), Some(_)) => {
                upper_median(self.keys.iter().filter(|c| c.key != key).map(|c| c.claimed))
            }
        }
    }

    /// Whether `ts` of `key` is more than `ahead_ms` past `reference_for(key)`. The hot path:
    /// a time within `ahead_ms` of every other key's claim needs no median.
    pub fn too_far_ahead(&self, key: u64, ts: EventTime, ahead_ms: i64) -> Option<EventTime> {
        let others = || self.keys.iter().filter(|c| c.key != key).map(|c| c.claimed);
        let within = others()
            .min()
            .is_some_and(|t| ts <= t.saturating_add_ms(ahead_ms));
        if within && others().nth(1).is_some() {
            return None;
        }
        let reference = self.reference_for(key)?;
        (ts > reference.saturating_add_ms(ahead_ms)).then_some(reference)
    }

    /// Whether `ts` is older than `newest()` minus `lateness_ms`; the watermark it missed. The
    /// hot path: a time within the lateness of the newest key needs no median.
    pub fn behind(&self, ts: EventTime, lateness_ms: i64) -> Option<EventTime> {
        let latest = self.keys.iter().filter_map(|c| c.accepted).max()?;
        if ts >= latest.saturating_sub_ms(lateness_ms) {
            return None;
        }
        let mark = self.newest()?.saturating_sub_ms(lateness_ms);
        (ts < mark).then_some(mark)
    }
}

fn upper_median(times: impl Iterator<Item = EventTime>) -> Option<EventTime> {
    let mut buf = [EventTime::MIN; KEYS];
    let mut n = 0;
    for t in times.take(KEYS) {
        buf[n] = t;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    let (_, median, _) = buf[..n].select_nth_unstable(n / 2);
    Some(*median)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> EventTime {
        EventTime::from_millis(s * 1000)
    }

    #[test]
    fn one_fast_key_does_not_move_the_newest() {
        let mut f = Frontier::default();
        for key in 0..5 {
            f.accept(key, t(100));
        }
        f.accept(9, t(340));
        assert_eq!(f.newest(), Some(t(100)));
    }

    #[test]
    fn with_two_keys_the_newer_wins() {
        let mut f = Frontier::default();
        f.accept(1, t(0));
        f.accept(2, t(10_800));
        assert_eq!(f.newest(), Some(t(10_800)));
    }

    #[test]
    fn only_the_last_keys_heard_count() {
        let mut f = Frontier::default();
        f.accept(100, t(0));
        for key in 0..KEYS as u64 {
            f.accept(key, t(50));
        }
        assert_eq!(f.keys.len(), KEYS);
        assert_eq!(f.newest(), Some(t(50)));
    }

    #[test]
    fn the_guard_reference_follows_the_other_keys_claims() {
        let mut f = Frontier::default();
        f.accept(1, t(0));
        assert_eq!(f.reference_for(1), Some(t(0)), "alone: its own history");
        assert_eq!(f.reference_for(2), None, "one word against another");
        f.claim(2, t(10_800));
        assert_eq!(f.reference_for(3), Some(t(10_800)), "a majority of two");
        assert_eq!(f.newest(), Some(t(0)), "a claim is not an accepted time");
        f.accept(2, t(10_800));
        assert_eq!(f.reference_for(2), Some(t(10_800)));
    }

    /// Issue 19: far-future records of a few keys, each followed by good ones, never win.
    #[test]
    fn a_refused_claim_lapses_at_the_keys_next_accepted_record() {
        let mut f = Frontier::default();
        for key in 0..KEYS as u64 {
            f.accept(key, t(100));
        }
        for key in 0..4 {
            f.claim(key, t(2_000_000_000));
            f.accept(key, t(101));
        }
        f.claim(4, t(2_000_000_000));
        assert_eq!(f.reference_for(5), Some(t(101)), "one refused claim alive");
        assert!(f.too_far_ahead(5, t(2_000_000_000), 3_600_000).is_some());
    }

    #[test]
    fn a_stream_that_truly_jumps_ahead_is_followed() {
        let mut f = Frontier::default();
        for key in 0..KEYS as u64 {
            f.accept(key, t(100));
        }
        let jump = t(100 + 86_400);
        let mut refused = 0;
        for key in 0..KEYS as u64 {
            match f.too_far_ahead(key, jump, 3_600_000) {
                Some(_) => {
                    refused += 1;
                    f.claim(key, jump)
                }
                None => f.accept(key, jump),
            }
        }
        assert!(refused <= KEYS / 2 + 1, "{refused} refused");
        assert_eq!(f.too_far_ahead(0, jump, 3_600_000), None);
    }

    proptest::proptest! {
        /// The hot paths give what the medians give.
        #[test]
        fn the_fast_paths_agree_with_the_medians(
            records in proptest::collection::vec((0u64..12, 0i64..600, proptest::bool::ANY), 1..60),
            probe_key in 0u64..12,
            probe in 0i64..900,
        ) {
            let mut f = Frontier::default();
            for (key, second, accepted) in records {
                if accepted { f.accept(key, t(second)) } else { f.claim(key, t(second)) }
            }
            let (lateness, ahead) = (10_000, 60_000);
            let expected_late = f.newest().map(|n| n.saturating_sub_ms(lateness)).filter(|m| t(probe) < *m);
            proptest::prop_assert_eq!(f.behind(t(probe), lateness), expected_late);
            let expected_ahead = f.reference_for(probe_key).filter(|r| t(probe) > r.saturating_add_ms(ahead));
            proptest::prop_assert_eq!(f.too_far_ahead(probe_key, t(probe), ahead), expected_ahead);
        }
    }
}
