//! Selection inside a pool (DOMAIN.md (e) 4): about `rank_share` of what is needed is taken by
//! rank, the rest drawn with probability proportional to priority from a seeded generator, so
//! the same seed gives the same list and a low-priority enterprise still has a chance.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::task::Selection;

/// One candidate: what it is, how urgent, and how much of the need it covers (a hot-work
/// visit covers each permit it checks).
#[derive(Clone, Debug)]
pub struct Candidate<T> {
    pub item: T,
    pub priority: f64,
    pub units: u32,
}

/// Picks candidates until `need` units are covered (or none are left): by rank until
/// `rank_share` of the need, then by priority-weighted draws. `candidates` must be in rank
/// order (highest priority first, ties broken by a stable key).
pub fn select<T>(
    candidates: Vec<Candidate<T>>,
    need: u32,
    rank_share: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<(T, Selection)> {
    let ranked_need = (f64::from(need) * rank_share).round() as u32;
    let mut rest = candidates.into_iter();
    let mut out = Vec::new();
    let mut covered = 0;
    while covered < ranked_need {
        let Some(c) = rest.next() else { break };
        covered += c.units;
        out.push((c.item, Selection::Ranked));
    }
    // Each draw costs a pass over what is left, and there are at most `need` of them.
    let mut rest: Vec<_> = rest.collect();
    while covered < need && !rest.is_empty() {
        let c = rest.remove(draw(&rest, rng));
        covered += c.units;
        out.push((c.item, Selection::Random));
    }
    out
}

/// An index drawn with probability proportional to priority (at least 1, so a zero or
/// negative priority still has a chance).
fn draw<T>(candidates: &[Candidate<T>], rng: &mut ChaCha8Rng) -> usize {
    let weight = |c: &Candidate<T>| c.priority.max(1.0);
    let total: f64 = candidates.iter().map(weight).sum();
    let mut point = rng.random::<f64>() * total;
    for (i, c) in candidates.iter().enumerate() {
        point -= weight(c);
        if point < 0.0 {
            return i;
        }
    }
    candidates.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn candidates(n: usize) -> Vec<Candidate<usize>> {
        (0..n)
            .map(|i| Candidate {
                item: i,
                priority: (n - i) as f64,
                units: 1,
            })
            .collect()
    }

    #[test]
    fn seventy_percent_by_rank_and_the_rest_drawn() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let picked = select(candidates(50), 10, 0.7, &mut rng);
        let ranked: Vec<_> = picked
            .iter()
            .filter(|(_, s)| *s == Selection::Ranked)
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(ranked, (0..7).collect::<Vec<_>>());
        assert_eq!(picked.len(), 10);
    }

    #[test]
    fn draws_favour_priority() {
        let mut high = 0;
        for seed in 0..400 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let c = vec![
                Candidate {
                    item: "low",
                    priority: 10.0,
                    units: 1,
                },
                Candidate {
                    item: "high",
                    priority: 90.0,
                    units: 1,
                },
            ];
            if select(c, 1, 0.0, &mut rng)[0].0 == "high" {
                high += 1;
            }
        }
        assert!((320..=400).contains(&high), "{high} of 400");
    }
}
