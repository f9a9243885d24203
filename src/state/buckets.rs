//! Event-time tumbling one-minute buckets of one indicator, kept for a bounded horizon, from
//! which the 1-, 5-, 15- and 60-minute windows are served.
//!
//! A bucket is 56 bytes: the minute as `i32` (minutes since the epoch last until year 6053),
//! the first/last offsets inside the minute as `u16` milliseconds, and five `f64`. With the
//! default 60-minute horizon an indicator holds at most 60 buckets, 3.4 KiB (59 in the ring,
//! the newest inline).

use std::collections::VecDeque;

use crate::model::EventTime;

const MINUTE_MS: i64 = 60_000;

/// Aggregate of the readings of one UTC minute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    minute: i32,
    pub count: u32,
    first_offset_ms: u16,
    last_offset_ms: u16,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    /// Value of the earliest reading (ties: the first to arrive).
    pub first: f64,
    /// Value of the latest reading (ties: the last to arrive).
    pub last: f64,
}

impl Bucket {
    fn new(minute: i32, offset_ms: u16, value: f64) -> Self {
        Bucket {
            minute,
            count: 1,
            first_offset_ms: offset_ms,
            last_offset_ms: offset_ms,
            min: value,
            max: value,
            sum: value,
            first: value,
            last: value,
        }
    }

    fn add(&mut self, offset_ms: u16, value: f64) {
        self.count += 1;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum += value;
        if offset_ms < self.first_offset_ms {
            self.first_offset_ms = offset_ms;
            self.first = value;
        }
        if offset_ms >= self.last_offset_ms {
            self.last_offset_ms = offset_ms;
            self.last = value;
        }
    }

    pub fn start(&self) -> EventTime {
        EventTime::from_millis(i64::from(self.minute) * MINUTE_MS)
    }

    pub fn mean(&self) -> f64 {
        self.sum / f64::from(self.count)
    }

    pub fn first_ts(&self) -> EventTime {
        self.start()
            .saturating_add_ms(i64::from(self.first_offset_ms))
    }

    pub fn last_ts(&self) -> EventTime {
        self.start()
            .saturating_add_ms(i64::from(self.last_offset_ms))
    }
}

/// Aggregate over a window of whole minutes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowAgg {
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub first: f64,
    pub last: f64,
    pub first_ts: EventTime,
    pub last_ts: EventTime,
}

impl WindowAgg {
    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }

    fn from_bucket(b: &Bucket) -> Self {
        WindowAgg {
            count: u64::from(b.count),
            min: b.min,
            max: b.max,
            sum: b.sum,
            first: b.first,
            last: b.last,
            first_ts: b.first_ts(),
            last_ts: b.last_ts(),
        }
    }

    /// Folds in a bucket of an earlier minute.
    fn after(mut self, b: &Bucket) -> Self {
        self.count += u64::from(b.count);
        self.min = self.min.min(b.min);
        self.max = self.max.max(b.max);
        self.sum += b.sum;
        self.first = b.first;
        self.first_ts = b.first_ts();
        self
    }

    /// Folds in a bucket of a later minute.
    fn then(mut self, b: &Bucket) -> Self {
        self.count += u64::from(b.count);
        self.min = self.min.min(b.min);
        self.max = self.max.max(b.max);
        self.sum += b.sum;
        self.last = b.last;
        self.last_ts = b.last_ts();
        self
    }
}

/// The buckets of one indicator, ascending by minute, at most `horizon_min` minutes back from
/// the newest reading. The newest minute's bucket lives inline (`open`), so a reading in the
/// current minute — most of them — touches no memory but the indicator's own: the ring is
/// written once a minute.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(try_from = "PackedRing")]
pub struct BucketRing {
    open: Option<Bucket>,
    closed: VecDeque<Bucket>,
}

impl BucketRing {
    /// Adds a reading. Readings older than `horizon_min` minutes before the newest bucket are
    /// ignored (ingest has already routed them to the late output).
    pub fn insert(&mut self, ts: EventTime, value: f64, horizon_min: u32) {
        let minute = minute_of(ts);
        let offset = ts.millis().rem_euclid(MINUTE_MS) as u16;
        match &mut self.open {
            Some(open) if open.minute == minute => open.add(offset, value),
            Some(open) if open.minute > minute => self.insert_earlier(minute, offset, value),
            open => {
                let previous = open.replace(Bucket::new(minute, offset, value));
                self.closed.extend(previous);
                self.evict(minute, horizon_min);
            }
        }
    }

    fn insert_earlier(&mut self, minute: i32, offset: u16, value: f64) {
        match self.closed.binary_search_by_key(&minute, |b| b.minute) {
            Ok(i) => self.closed[i].add(offset, value),
            Err(i) => self.closed.insert(i, Bucket::new(minute, offset, value)),
        }
    }

    fn evict(&mut self, newest: i32, horizon_min: u32) {
        let oldest_kept = newest.saturating_sub(horizon_min as i32 - 1);
        while self.closed.front().is_some_and(|b| b.minute < oldest_kept) {
            self.closed.pop_front();
        }
    }

    /// The aggregate of the `minutes` whole minutes ending with the minute that holds `now`.
    pub fn window(&self, now: EventTime, minutes: u32) -> Option<WindowAgg> {
        let end = minute_of(now);
        let start = end.saturating_sub(minutes as i32 - 1);
        let from = self.closed.partition_point(|b| b.minute < start);
        let mut inside = self
            .closed
            .range(from..)
            .chain(self.open.iter())
            .skip_while(|b| b.minute < start)
            .take_while(|b| b.minute <= end);
        let first = WindowAgg::from_bucket(inside.next()?);
        Some(inside.fold(first, WindowAgg::then))
    }

    /// The windows of each of `lengths` minutes (ascending) ending with the minute of `now`,
    /// in one pass from the newest bucket back: the same aggregates as `window` for each.
    pub fn windows<const N: usize>(
        &self,
        now: EventTime,
        lengths: [u32; N],
    ) -> [Option<WindowAgg>; N] {
        let end = minute_of(now);
        let mut out = [None; N];
        let mut acc: Option<WindowAgg> = None;
        let mut next = 0;
        let newest_first = self.open.iter().chain(self.closed.iter().rev());
        for b in newest_first.skip_while(|b| b.minute > end) {
            while next < N && b.minute < end.saturating_sub(lengths[next] as i32 - 1) {
                out[next] = acc;
                next += 1;
            }
            if next == N {
                break;
            }
            acc = Some(match acc {
                None => WindowAgg::from_bucket(b),
                Some(a) => a.after(b),
            });
        }
        for slot in out.iter_mut().skip(next) {
            *slot = acc;
        }
        out
    }

    pub fn len(&self) -> usize {
        self.closed.len() + usize::from(self.open.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_none()
    }

    /// Every bucket, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Bucket> {
        self.closed.iter().chain(self.open.iter())
    }

    pub fn allocated_bytes(&self) -> usize {
        self.closed.capacity() * std::mem::size_of::<Bucket>()
    }
}

/// A ring in a checkpoint: its buckets oldest first, each packed little-endian into
/// `PACKED` bytes, the last one the open bucket when `open` is set. Buckets are most of a
/// checkpoint; packed they are copied, not serialised field by field (4× faster).
#[derive(serde::Serialize, serde::Deserialize)]
struct PackedRing {
    open: bool,
    #[serde(with = "serde_bytes")]
    buckets: Vec<u8>,
}

const PACKED: usize = 52;

impl serde::Serialize for BucketRing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PackedRing::from(self).serialize(s)
    }
}

impl From<&BucketRing> for PackedRing {
    fn from(ring: &BucketRing) -> Self {
        let mut buckets = Vec::with_capacity(ring.len() * PACKED);
        for b in ring.iter() {
            let mut packed = [0u8; PACKED];
            packed[0..4].copy_from_slice(&b.minute.to_le_bytes());
            packed[4..8].copy_from_slice(&b.count.to_le_bytes());
            packed[8..10].copy_from_slice(&b.first_offset_ms.to_le_bytes());
            packed[10..12].copy_from_slice(&b.last_offset_ms.to_le_bytes());
            for (i, v) in [b.min, b.max, b.sum, b.first, b.last]
                .into_iter()
                .enumerate()
            {
                packed[12 + 8 * i..20 + 8 * i].copy_from_slice(&v.to_le_bytes());
            }
            buckets.extend_from_slice(&packed);
        }
        PackedRing {
            open: ring.open.is_some(),
            buckets,
        }
    }
}

impl TryFrom<PackedRing> for BucketRing {
    type Error = String;

    fn try_from(packed: PackedRing) -> Result<Self, Self::Error> {
        if packed.buckets.len() % PACKED != 0 {
            return Err(format!("{} bytes of buckets", packed.buckets.len()));
        }
        let mut closed: VecDeque<Bucket> =
            packed.buckets.chunks_exact(PACKED).map(unpack).collect();
        let open = if packed.open { closed.pop_back() } else { None };
        Ok(BucketRing { open, closed })
    }
}

fn unpack(b: &[u8]) -> Bucket {
    let word = |at: usize| -> [u8; 4] { b[at..at + 4].try_into().expect("4 bytes") };
    let half = |at: usize| -> [u8; 2] { b[at..at + 2].try_into().expect("2 bytes") };
    let float = |at: usize| f64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    Bucket {
        minute: i32::from_le_bytes(word(0)),
        count: u32::from_le_bytes(word(4)),
        first_offset_ms: u16::from_le_bytes(half(8)),
        last_offset_ms: u16::from_le_bytes(half(10)),
        min: float(12),
        max: float(20),
        sum: float(28),
        first: float(36),
        last: float(44),
    }
}

fn minute_of(ts: EventTime) -> i32 {
    ts.millis()
        .div_euclid(MINUTE_MS)
        .clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64, ms: i64) -> EventTime {
        EventTime::from_millis(1_600_000_020_000 / MINUTE_MS * MINUTE_MS + min * MINUTE_MS + ms)
    }

    #[test]
    fn bucket_is_56_bytes() {
        assert_eq!(std::mem::size_of::<Bucket>(), 56);
    }

    #[test]
    fn out_of_order_reading_updates_first_of_its_minute() {
        let mut ring = BucketRing::default();
        ring.insert(t(0, 30_000), 2.0, 60);
        ring.insert(t(1, 0), 5.0, 60);
        ring.insert(t(0, 10_000), 1.0, 60);
        let w = ring.window(t(1, 0), 5).unwrap();
        assert_eq!(
            (w.count, w.first, w.last, w.min, w.max),
            (3, 1.0, 5.0, 1.0, 5.0)
        );
        assert_eq!(w.first_ts, t(0, 10_000));
    }

    #[test]
    fn horizon_bounds_the_ring() {
        let mut ring = BucketRing::default();
        for m in 0..200 {
            ring.insert(t(m, 0), m as f64, 60);
        }
        assert_eq!(ring.len(), 60);
        assert!(ring.window(t(199, 0), 1).is_some());
        assert!(ring.window(t(100, 0), 1).is_none());
    }

    #[test]
    fn a_ring_packs_and_unpacks_to_itself() {
        let mut ring = BucketRing::default();
        for m in 0..70 {
            ring.insert(t(m, 1_234), m as f64 * 1.5, 60);
            ring.insert(t(m, 59_999), -(m as f64), 60);
        }
        let packed = PackedRing::from(&ring);
        assert_eq!(packed.buckets.len(), 60 * PACKED);
        assert_eq!(BucketRing::try_from(packed).unwrap(), ring);
        let empty = PackedRing::from(&BucketRing::default());
        assert_eq!(BucketRing::try_from(empty).unwrap(), BucketRing::default());
    }
}
