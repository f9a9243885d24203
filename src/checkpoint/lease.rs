//! Handing a partition over between instances. The group protocol revokes a partition from
//! one instance before it assigns it to another, but the giver's checkpoint of it is written
//! by its ingest loop after the revocation callback has returned: the taker could load the
//! checkpoint before, re-evaluate ticks the giver had already published, and open the same
//! episodes again at other ticks (its clock follows other partitions), under other ids.
//!
//! So each partition has a lease beside its checkpoints. A task of its holder (`keep`, beside
//! the ingest loop, so a busy loop still renews) renews the leases of the partitions it
//! holds, parked ones included, every checkpoint interval; the checkpoint writer has it
//! release a partition once the revocation (or shutdown) checkpoint queued before is
//! written. The taker loads only when the lease is released, its own, or absent, or once it
//! has gone stale: not renewed for `stale` by the holder's clock, or unchanged for `stale` by
//! the taker's (a holder that died writes nothing more, and a skewed clock cannot stall the
//! takeover). A holder renewing without releasing is waited for `patience` at most.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::CheckpointError;
use crate::model::time::wall_clock_ms;

use super::store::CheckpointStore;

/// A partition's lease, as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The instance holding the partition (`instance_id`).
    pub holder: String,
    /// Its last checkpoint of the partition is written; the next owner may load.
    pub released: bool,
    /// Wall time of the holder's last renewal, as Unix milliseconds.
    pub renewed_at_ms: i64,
}

/// How a takeover found the lease of a partition it was assigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handoff {
    /// No lease: the partition was never held, or by a vigil without leases.
    Free,
    /// Released by its holder after its last checkpoint.
    Released,
    /// Held by this instance already.
    Own,
    /// Its holder stopped renewing it (it died): its newest checkpoint is the last.
    Stale,
    /// Still renewed but not released in time: loaded anyway.
    TimedOut,
    /// The lease cannot be read: loaded anyway.
    Unreadable,
}

impl Handoff {
    pub fn label(self) -> &'static str {
        match self {
            Handoff::Free => "free",
            Handoff::Released => "released",
            Handoff::Own => "own",
            Handoff::Stale => "stale",
            Handoff::TimedOut => "timed_out",
            Handoff::Unreadable => "unreadable",
        }
    }
}

/// This process's name in leases: its pid and a random nonce (a restarted process is another
/// holder, even with the same pid).
pub fn instance_id() -> String {
    let mut nonce = [0u8; 6];
    // Without entropy the pid and start time still tell processes apart.
    if getrandom::fill(&mut nonce).is_err() {
        nonce.copy_from_slice(&wall_clock_ms().to_be_bytes()[2..]);
    }
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{nonce}", std::process::id())
}

/// How long a lease may go unrenewed before its holder counts as gone, for a holder renewing
/// every `interval`.
pub fn stale_after(interval: Duration) -> Duration {
    (interval * 3).max(Duration::from_secs(2))
}

/// Longest a taker waits for a live holder to release (it has the revocation checkpoint to
/// encode and write, after its outputs are delivered).
pub fn patience(stale: Duration) -> Duration {
    (stale * 2).max(Duration::from_secs(30))
}

/// What the holder's lease task is told, in the writer's order.
#[derive(Debug)]
pub enum LeaseCommand {
    /// The partitions are held here: their leases are renewed from now on.
    Hold(Vec<i32>),
    /// Their last checkpoints are written: released, and no longer renewed.
    Release(Vec<i32>),
}

/// Keeps the leases of instance `me`: writes each command's leases at once and renews the
/// held ones every `every`, until the commands end (after the last release).
pub async fn keep(
    store: std::sync::Arc<CheckpointStore>,
    me: String,
    every: Duration,
    mut commands: tokio::sync::mpsc::UnboundedReceiver<LeaseCommand>,
) {
    let mut held = std::collections::BTreeSet::new();
    let mut renew = tokio::time::interval(every.max(Duration::from_millis(100)));
    loop {
        let (partitions, released) = tokio::select! {
            command = commands.recv() => match command {
                None => return,
                Some(LeaseCommand::Hold(partitions)) => {
                    held.extend(partitions.iter().copied());
                    (partitions, false)
                }
                Some(LeaseCommand::Release(partitions)) => {
                    partitions.iter().for_each(|p| { held.remove(p); });
                    (partitions, true)
                }
            },
            _ = renew.tick() => (held.iter().copied().collect(), false),
        };
        let lease = lease(&me, released);
        for partition in partitions {
            if let Err(error) = write(&store, partition, &lease).await {
                tracing::warn!(partition, %error, "lease not written");
            }
        }
    }
}

const POLL: Duration = Duration::from_millis(50);
/// The lease's object, beside the partition's checkpoints.
const LEASE: &str = "lease.json";

/// Replaces the partition's lease.
pub async fn write(
    store: &CheckpointStore,
    partition: i32,
    lease: &Lease,
) -> Result<(), CheckpointError> {
    let bytes = serde_json::to_vec(lease).expect("a lease serialises");
    store.write_beside(partition, LEASE, bytes).await
}

/// The partition's lease; one that does not parse counts as none (it only ever delays a
/// takeover).
pub async fn read(
    store: &CheckpointStore,
    partition: i32,
) -> Result<Option<Lease>, CheckpointError> {
    let Some(bytes) = store.read_beside(partition, LEASE).await? else {
        return Ok(None);
    };
    match serde_json::from_slice(&bytes) {
        Ok(lease) => Ok(Some(lease)),
        Err(error) => {
            tracing::warn!(partition, %error, "lease unreadable; taken for none");
            Ok(None)
        }
    }
}

/// Waits until every one of `partitions` may be loaded by instance `me`, and says why each
/// may. `stale`: see `stale_after`; a live holder is waited for `patience(stale)` at most.
pub async fn wait_for_handoff(
    store: &CheckpointStore,
    partitions: &[i32],
    me: &str,
    stale: Duration,
) -> BTreeMap<i32, Handoff> {
    wait_at_most(store, partitions, me, stale, patience(stale)).await
}

async fn wait_at_most(
    store: &CheckpointStore,
    partitions: &[i32],
    me: &str,
    stale: Duration,
    patience: Duration,
) -> BTreeMap<i32, Handoff> {
    let started = Instant::now();
    let mut found = BTreeMap::new();
    let mut watched: BTreeMap<i32, (Lease, Instant)> = BTreeMap::new();
    loop {
        let pending: Vec<i32> = (partitions.iter().copied())
            .filter(|p| !found.contains_key(p))
            .collect();
        for partition in pending {
            let verdict = match read(store, partition).await {
                Ok(lease) => judge(lease, me, stale, watched.entry(partition)),
                Err(error) => {
                    tracing::warn!(partition, %error, "lease unreadable; loading the newest checkpoint");
                    Some(Handoff::Unreadable)
                }
            };
            if let Some(verdict) = verdict {
                found.insert(partition, verdict);
            }
        }
        if found.len() == partitions.len() {
            return found;
        }
        if started.elapsed() >= patience {
            for &partition in partitions {
                found.entry(partition).or_insert_with(|| {
                    tracing::warn!(partition, "the partition's holder renews its lease but has not released it; loading its newest checkpoint");
                    Handoff::TimedOut
                });
            }
            return found;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Whether a partition with `lease` may be loaded now (`None`: wait). `seen` is the lease as
/// last read, and since when it was unchanged.
fn judge(
    lease: Option<Lease>,
    me: &str,
    stale: Duration,
    seen: std::collections::btree_map::Entry<'_, i32, (Lease, Instant)>,
) -> Option<Handoff> {
    let Some(lease) = lease else {
        return Some(Handoff::Free);
    };
    if lease.holder == me {
        return Some(Handoff::Own);
    }
    if lease.released {
        return Some(Handoff::Released);
    }
    let age =
        Duration::from_millis(wall_clock_ms().saturating_sub(lease.renewed_at_ms).max(0) as u64);
    let (last, since) = seen.or_insert_with(|| (lease.clone(), Instant::now()));
    if *last != lease {
        (*last, *since) = (lease, Instant::now());
    }
    (age > stale || since.elapsed() > stale).then_some(Handoff::Stale)
}

/// The lease `me` writes for a partition it holds (`released`: gives it up).
pub fn lease(me: &str, released: bool) -> Lease {
    Lease {
        holder: me.to_owned(),
        released,
        renewed_at_ms: wall_clock_ms(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &tempfile::TempDir) -> CheckpointStore {
        let mut config = crate::config::Config::default().checkpoint;
        config.url = dir.path().display().to_string();
        CheckpointStore::open(&config, "group").unwrap()
    }

    #[tokio::test]
    async fn a_taker_waits_for_the_holder_to_release() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(store(&dir));
        write(&store, 0, &lease("giver", false)).await.unwrap();
        let releasing = {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                for _ in 0..6 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    write(&store, 0, &lease("giver", false)).await.unwrap();
                }
                write(&store, 0, &lease("giver", true)).await.unwrap();
            })
        };
        let started = Instant::now();
        let found = wait_for_handoff(&store, &[0, 1], "taker", Duration::from_secs(5)).await;
        assert!(
            started.elapsed() >= Duration::from_millis(600),
            "waited for the release"
        );
        assert_eq!(found[&0], Handoff::Released);
        assert_eq!(found[&1], Handoff::Free, "never held");
        releasing.await.unwrap();
    }

    #[tokio::test]
    async fn the_keeper_renews_held_leases_and_releases_on_command() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(store(&dir));
        let (commands, received) = tokio::sync::mpsc::unbounded_channel();
        let every = Duration::from_millis(100);
        let keeper = tokio::spawn(keep(
            std::sync::Arc::clone(&store),
            "me".into(),
            every,
            received,
        ));
        commands.send(LeaseCommand::Hold(vec![0, 1])).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let first = read(&store, 0).await.unwrap().unwrap();
        assert!(!first.released);
        commands.send(LeaseCommand::Release(vec![1])).unwrap();
        tokio::time::sleep(Duration::from_millis(350)).await;
        let renewed = read(&store, 0).await.unwrap().unwrap();
        assert!(renewed.renewed_at_ms > first.renewed_at_ms, "held: renewed");
        let released = read(&store, 1).await.unwrap().unwrap();
        assert!(released.released, "released, and not renewed over");
        assert_eq!(released.holder, "me");
        drop(commands);
        keeper.await.unwrap();
    }

    #[tokio::test]
    async fn a_dead_holder_does_not_hold_the_takeover() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let mut old = lease("dead", false);
        old.renewed_at_ms -= 10_000;
        write(&store, 0, &old).await.unwrap();
        // Renewed "now" by a clock far ahead: unchanged for `stale` on the taker's clock.
        let mut ahead = lease("skewed", false);
        ahead.renewed_at_ms += 3_600_000;
        write(&store, 1, &ahead).await.unwrap();
        write(&store, 2, &lease("taker", false)).await.unwrap();
        let started = Instant::now();
        let found = wait_for_handoff(&store, &[0, 1, 2], "taker", Duration::from_millis(300)).await;
        assert_eq!(found[&0], Handoff::Stale);
        assert_eq!(found[&1], Handoff::Stale);
        assert_eq!(found[&2], Handoff::Own);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
        assert!(waited < Duration::from_millis(600), "{waited:?}");
    }

    #[tokio::test]
    async fn a_holder_that_renews_without_releasing_is_waited_for_a_bounded_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(store(&dir));
        let stop = tokio_util::sync::CancellationToken::new();
        write(&store, 0, &lease("busy", false)).await.unwrap();
        let renewing = {
            let (store, stop) = (std::sync::Arc::clone(&store), stop.clone());
            tokio::spawn(async move {
                while !stop.is_cancelled() {
                    write(&store, 0, &lease("busy", false)).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        let (stale, patience) = (Duration::from_millis(300), Duration::from_millis(900));
        let found = wait_at_most(&store, &[0], "taker", stale, patience).await;
        stop.cancel();
        renewing.await.unwrap();
        assert_eq!(found[&0], Handoff::TimedOut);
    }
}
