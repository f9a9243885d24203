//! What the business streams are generated over.

use crate::model::EventTime;

use super::scenario::Injection;
use super::Province;

/// What every business stream is generated over: the province, the seed, the event-time
/// span `[start, end)` and the incidents injected into it.
#[derive(Clone, Copy)]
pub struct Span<'a> {
    pub province: &'a Province,
    pub seed: u64,
    pub start: EventTime,
    pub end: EventTime,
    pub injections: &'a [Injection],
}
