//! How a partition's enterprises are split into shards, and how a tick tells which of a
//! shard's tables changed: per part of the state (`state::Part`), a fingerprint of the
//! shard's enterprises and their versions of that part. A table's stamp combines the prints
//! of the parts it reads (and the minute, for the clocked one); a cached batch whose stamp
//! is unchanged is still current.

use std::hash::BuildHasher;

use crate::state::{Part, PartVersions, PartitionState};

/// Per part: XOR of the shard's enterprises' prints, and how many enterprises there are.
pub type PartPrints = [(u64, u32); Part::COUNT];

/// The shard of an enterprise, and the hash of its id its prints start from.
pub fn shard_of(key: &str, shards: u32) -> (u32, u64) {
    let key_hash = splitmix(rustc_hash::FxBuildHasher.hash_one(key));
    ((key_hash % u64::from(shards)) as u32, key_hash)
}

/// Every shard's prints (shards without enterprises have a count of 0).
pub fn fingerprints(partition: &PartitionState, shards: u32) -> Vec<PartPrints> {
    let mut prints = vec![[(0u64, 0u32); Part::COUNT]; shards as usize];
    for entry in partition.enterprises.iter() {
        let (shard, key_hash) = shard_of(entry.key(), shards);
        let versions = &entry.part_versions;
        for (part, slot) in Part::ALL.iter().zip(prints[shard as usize].iter_mut()) {
            let version = versions.of(*part);
            slot.0 ^= splitmix(key_hash ^ version.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            slot.1 += 1;
        }
    }
    prints
}

/// How many enterprises a shard holds.
pub fn population(prints: &PartPrints) -> u32 {
    prints[0].1
}

/// What a table's rows in a shard were built from: the prints of the parts it reads, and
/// the minute when its rows depend on the clock's minute.
pub fn stamp(prints: &PartPrints, reads: &[Part], minute: Option<i64>) -> u64 {
    let parts = reads.iter().map(|part| prints[part.index()].0);
    fold(u64::from(population(prints)), parts, minute)
}

/// A stamp of a set of rows, from each row's print (in any order): equal sets, equal stamps.
pub fn rows_stamp(prints: impl Iterator<Item = u64>) -> u64 {
    let (xor, count) = prints.fold((0u64, 0u64), |(x, n), p| (x ^ splitmix(p), n + 1));
    splitmix(xor ^ splitmix(count))
}

/// What an enterprise's rows of a table are built from: its versions of the parts the table
/// reads, and the minute when its rows depend on the clock's minute.
pub fn enterprise_stamp(versions: &PartVersions, reads: &[Part], minute: Option<i64>) -> u64 {
    let parts = reads.iter().map(|part| versions.of(*part));
    fold(reads.len() as u64, parts, minute)
}

/// A stamp from a seed, the parts' values and the minute (if any).
fn fold(seed: u64, parts: impl Iterator<Item = u64>, minute: Option<i64>) -> u64 {
    let stamp = parts.fold(splitmix(seed), |stamp, part| splitmix(stamp ^ part));
    match minute {
        Some(minute) => splitmix(stamp ^ minute as u64),
        None => stamp,
    }
}

/// One stamp for several.
pub fn combine(stamps: impl Iterator<Item = u64>) -> u64 {
    stamps.fold(0, |acc, stamp| splitmix(acc ^ stamp))
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
