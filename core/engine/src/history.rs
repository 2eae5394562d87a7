//! The trial store. Trials are addressed by id (ids are dense: id == position), never by the order in which
//! results arrive. Completed trials are also kept ranked by value so strategies can read "the k best" without
//! sorting the whole history on every ask, and pending trials are indexed so that finding the ones in flight
//! does not mean walking back to a result that never arrived. Both indexes keep an ask's cost flat in the
//! size of the history.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::{ArqonError, Result};
use crate::space::{param_key, ParamKey, Value};
use crate::strategy::StrategyKind;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum Outcome {
    Pending,
    Complete(f64),
    Failed,
}

/// Who produced a trial's parameters.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum Source {
    Probe { index: u64 },
    Strategy(StrategyKind),
    External,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Trial {
    pub id: u64,
    /// Position in the unit cube (clamped for out-of-range external points).
    pub unit: Vec<f64>,
    pub values: Vec<Value>,
    pub outcome: Outcome,
    pub source: Source,
}

/// (value, id) with a total order on the value; values are finite by construction.
#[derive(Clone, Copy, Debug, PartialEq)]
struct RankKey(f64, u64);

impl Eq for RankKey {}

impl Ord for RankKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

impl PartialOrd for RankKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Producers the per-producer rankings tell apart: each strategy kind, and one slot shared by the probe
/// design and external points.
const PRODUCERS: usize = 5;

/// The ranking slot of a trial's producer.
fn producer_slot(source: Source) -> usize {
    match source {
        Source::Strategy(StrategyKind::Probe) => 0,
        Source::Strategy(StrategyKind::NelderMead) => 1,
        Source::Strategy(StrategyKind::Tpe) => 2,
        Source::Strategy(StrategyKind::Cmaes) => 3,
        Source::Probe { .. } | Source::External => 4,
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct History {
    trials: Vec<Trial>,
    /// Completed trials ordered by (value, id), one ranking per producer: O(log n) inserts, so a tell costs
    /// the same at any history size, and a strategy that leaves one producer's trials out of its model (TPE
    /// beside Nelder-Mead) merges the others' rankings instead of walking past that producer's trials.
    /// Derived from `trials`; rebuilt after deserialization.
    #[serde(skip)]
    ranked: [BTreeSet<RankKey>; PRODUCERS],
    /// Ids of the pending trials; rebuilt after deserialization.
    #[serde(skip)]
    pending: BTreeSet<u64>,
    n_failed: usize,
    /// The first trial (any state) holding each parameter vector; rebuilt after deserialization.
    #[serde(skip)]
    seen: HashMap<ParamKey, u64>,
    /// Pending trial ids per parameter vector, oldest first; rebuilt after deserialization.
    #[serde(skip)]
    pending_by_key: HashMap<ParamKey, Vec<u64>>,
}

impl History {
    pub fn len(&self) -> usize {
        self.trials.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trials.is_empty()
    }

    pub fn next_id(&self) -> u64 {
        self.trials.len() as u64
    }

    pub fn get(&self, id: u64) -> Option<&Trial> {
        self.trials.get(usize::try_from(id).ok()?)
    }

    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    pub fn n_complete(&self) -> usize {
        self.ranked.iter().map(BTreeSet::len).sum()
    }

    pub fn n_failed(&self) -> usize {
        self.n_failed
    }

    /// Trials with a result, successful or failed.
    pub fn n_finished(&self) -> usize {
        self.n_complete() + self.n_failed
    }

    pub fn n_pending(&self) -> usize {
        self.trials.len() - self.n_finished()
    }

    /// Completed (value, id) pairs, best first (ties by id).
    pub fn ranked(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.merged_ranking(None)
    }

    /// Completed trials that `excluded` did not propose.
    pub fn n_complete_excluding(&self, excluded: StrategyKind) -> usize {
        self.n_complete() - self.ranked[producer_slot(Source::Strategy(excluded))].len()
    }

    /// `ranked()` without the trials `excluded` proposed. Each item costs O(producers), however many of the
    /// excluded producer's trials rank above it.
    pub fn ranked_excluding(&self, excluded: StrategyKind) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.merged_ranking(Some(producer_slot(Source::Strategy(excluded))))
    }

    /// The per-producer rankings merged into one, best first, leaving out the producer in slot `skip`.
    fn merged_ranking(&self, skip: Option<usize>) -> impl Iterator<Item = (f64, u64)> + '_ {
        let mut heads = self.ranked.each_ref().map(|ranking| ranking.iter().peekable());
        std::iter::from_fn(move || {
            let (key, slot) = heads
                .iter_mut()
                .enumerate()
                .filter(|&(slot, _)| Some(slot) != skip)
                .filter_map(|(slot, head)| head.peek().map(|&&key| (key, slot)))
                .min_by_key(|&(key, _)| key)?;
            heads[slot].next();
            Some((key.0, key.1))
        })
    }

    /// Pending trials, most recent first.
    pub fn pending_newest_first(&self) -> impl Iterator<Item = &Trial> {
        self.pending.iter().rev().filter_map(|&id| self.get(id))
    }

    pub fn best_value(&self) -> Option<f64> {
        self.best_key().map(|k| k.0)
    }

    pub fn best(&self) -> Option<&Trial> {
        self.best_key().and_then(|k| self.get(k.1))
    }

    fn best_key(&self) -> Option<RankKey> {
        self.ranked.iter().filter_map(BTreeSet::first).min().copied()
    }

    pub fn contains_values(&self, values: &[Value]) -> bool {
        self.seen.contains_key(&param_key(values))
    }

    /// The first trial holding exactly these values, whatever its state.
    pub fn find_values(&self, values: &[Value]) -> Option<&Trial> {
        self.seen.get(&param_key(values)).and_then(|&id| self.get(id))
    }

    pub fn distinct_points(&self) -> usize {
        self.seen.len()
    }

    /// Appends a trial; its id must be `next_id()`.
    pub fn push(&mut self, trial: Trial) {
        debug_assert_eq!(trial.id, self.next_id());
        let key = param_key(&trial.values);
        let id_of_new = trial.id;
        if trial.outcome == Outcome::Pending {
            self.pending_by_key.entry(key.clone()).or_default().push(trial.id);
        }
        self.seen.entry(key).or_insert(id_of_new);
        let (id, outcome, source) = (trial.id, trial.outcome, trial.source);
        self.trials.push(trial);
        self.record_outcome(id, outcome, source);
    }

    /// Records the result of a pending trial. A trial's first result is final.
    pub fn finish(&mut self, id: u64, outcome: Outcome) -> Result<()> {
        let trial = self.trials.get_mut(id as usize).ok_or(ArqonError::UnknownTrial(id))?;
        if trial.outcome != Outcome::Pending {
            return Err(ArqonError::TrialState {
                id,
                message: "a result was already told for this trial".into(),
            });
        }
        trial.outcome = outcome;
        let source = trial.source;
        let key = param_key(&trial.values);
        if let Some(ids) = self.pending_by_key.get_mut(&key) {
            ids.retain(|&p| p != id);
            if ids.is_empty() {
                self.pending_by_key.remove(&key);
            }
        }
        self.pending.remove(&id);
        self.record_outcome(id, outcome, source);
        Ok(())
    }

    fn record_outcome(&mut self, id: u64, outcome: Outcome, source: Source) {
        match outcome {
            Outcome::Pending => {
                self.pending.insert(id);
            }
            Outcome::Failed => self.n_failed += 1,
            Outcome::Complete(v) => {
                self.ranked[producer_slot(source)].insert(RankKey(v, id));
            }
        }
    }

    /// Restores the derived indexes after deserialization by pushing every trial again.
    pub fn rebuild_index(&mut self) {
        let trials = std::mem::take(&mut self.trials);
        *self = History::default();
        for t in trials {
            self.push(t);
        }
    }

    /// The id of the oldest pending trial with exactly these values, for results told without an id.
    pub fn find_pending(&self, values: &[Value]) -> Option<u64> {
        self.pending_by_key.get(&param_key(values)).and_then(|ids| ids.first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SOURCES: [Source; 6] = [
        Source::Probe { index: 0 },
        Source::External,
        Source::Strategy(StrategyKind::Probe),
        Source::Strategy(StrategyKind::NelderMead),
        Source::Strategy(StrategyKind::Tpe),
        Source::Strategy(StrategyKind::Cmaes),
    ];
    const KINDS: [StrategyKind; 4] =
        [StrategyKind::Probe, StrategyKind::NelderMead, StrategyKind::Tpe, StrategyKind::Cmaes];

    /// One step of a history's life: a new trial (source, first outcome), or a result for trial `k % len`.
    #[derive(Clone, Debug)]
    enum Step {
        Push(usize, Outcome),
        Finish(u64, Outcome),
    }

    fn outcome() -> impl proptest::strategy::Strategy<Value = Outcome> {
        // Few distinct values, so ties (broken by id) are common.
        prop_oneof![
            Just(Outcome::Pending),
            (0u8..6).prop_map(|v| Outcome::Complete(v as f64)),
            Just(Outcome::Failed)
        ]
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        prop_oneof![
            (0..SOURCES.len(), outcome()).prop_map(|(s, o)| Step::Push(s, o)),
            (any::<u64>(), outcome()).prop_map(|(k, o)| Step::Finish(k, o)),
        ]
    }

    fn build(steps: &[Step]) -> History {
        let mut h = History::default();
        for step in steps {
            match *step {
                Step::Push(source, outcome) => {
                    let id = h.next_id();
                    let values = vec![Value::Float(id as f64)];
                    h.push(Trial { id, unit: vec![0.5], values, outcome, source: SOURCES[source] });
                }
                Step::Finish(k, outcome) if !h.is_empty() && outcome != Outcome::Pending => {
                    let _ = h.finish(k % h.len() as u64, outcome);
                }
                Step::Finish(..) => {}
            }
        }
        h
    }

    /// The indexes agree with a plain scan of the trials.
    fn assert_indexes_match_the_trials(h: &History) {
        let mut sorted: Vec<(f64, u64)> = h
            .trials()
            .iter()
            .filter_map(|t| match t.outcome {
                Outcome::Complete(v) => Some((v, t.id)),
                _ => None,
            })
            .collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        assert_eq!(h.ranked().collect::<Vec<_>>(), sorted);
        assert_eq!(h.n_complete(), sorted.len());
        assert_eq!(h.best_value(), sorted.first().map(|&(v, _)| v));
        assert_eq!(h.best().map(|t| t.id), sorted.first().map(|&(_, id)| id));
        for kind in KINDS {
            let expected: Vec<(f64, u64)> =
                h.ranked().filter(|&(_, id)| h.get(id).unwrap().source != Source::Strategy(kind)).collect();
            assert_eq!(h.ranked_excluding(kind).collect::<Vec<_>>(), expected, "excluding {kind:?}");
            assert_eq!(h.n_complete_excluding(kind), expected.len());
        }
        let pending: Vec<u64> =
            h.trials().iter().rev().filter(|t| t.outcome == Outcome::Pending).map(|t| t.id).collect();
        assert_eq!(h.pending_newest_first().map(|t| t.id).collect::<Vec<_>>(), pending);
        assert_eq!(h.n_pending(), pending.len());
    }

    proptest! {
        #[test]
        fn per_producer_rankings_and_the_pending_index_follow_the_trials(
            steps in prop::collection::vec(step(), 0..120)
        ) {
            let h = build(&steps);
            assert_indexes_match_the_trials(&h);
            let mut restored: History = postcard::from_bytes(&postcard::to_allocvec(&h).unwrap()).unwrap();
            restored.rebuild_index();
            assert_indexes_match_the_trials(&restored);
            prop_assert_eq!(restored, h);
        }
    }
}
