//! The trial store. Trials are addressed by id (ids are dense: id == position), never by the order in which
//! results arrive. Completed trials are also kept ranked by value so strategies can read "the k best" without
//! sorting the whole history on every ask.

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

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct History {
    trials: Vec<Trial>,
    /// Completed trials ordered by (value, id): O(log n) inserts, so a tell costs the same at any history size.
    /// Derived from `trials`; rebuilt after deserialization.
    #[serde(skip)]
    ranked: BTreeSet<RankKey>,
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
        self.ranked.len()
    }

    pub fn n_failed(&self) -> usize {
        self.n_failed
    }

    /// Trials with a result, successful or failed.
    pub fn n_finished(&self) -> usize {
        self.ranked.len() + self.n_failed
    }

    pub fn n_pending(&self) -> usize {
        self.trials.len() - self.n_finished()
    }

    /// Completed (value, id) pairs, best first (ties by id).
    pub fn ranked(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.ranked.iter().map(|k| (k.0, k.1))
    }

    pub fn best_value(&self) -> Option<f64> {
        self.ranked.first().map(|k| k.0)
    }

    pub fn best(&self) -> Option<&Trial> {
        self.ranked.first().and_then(|k| self.get(k.1))
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
        let outcome = trial.outcome;
        let id = trial.id;
        self.trials.push(trial);
        self.record_outcome(id, outcome);
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
        let key = param_key(&trial.values);
        if let Some(ids) = self.pending_by_key.get_mut(&key) {
            ids.retain(|&p| p != id);
            if ids.is_empty() {
                self.pending_by_key.remove(&key);
            }
        }
        self.record_outcome(id, outcome);
        Ok(())
    }

    fn record_outcome(&mut self, id: u64, outcome: Outcome) {
        match outcome {
            Outcome::Pending => {}
            Outcome::Failed => self.n_failed += 1,
            Outcome::Complete(v) => {
                self.ranked.insert(RankKey(v, id));
            }
        }
    }

    /// Restores the derived membership index after deserialization.
    pub fn rebuild_index(&mut self) {
        self.seen.clear();
        self.pending_by_key.clear();
        self.ranked.clear();
        for t in &self.trials {
            if let Outcome::Complete(v) = t.outcome {
                self.ranked.insert(RankKey(v, t.id));
            }
            let key = param_key(&t.values);
            if t.outcome == Outcome::Pending {
                self.pending_by_key.entry(key.clone()).or_default().push(t.id);
            }
            self.seen.entry(key).or_insert(t.id);
        }
    }

    /// Pending trials, most recent first; used by strategies that must avoid points others are evaluating.
    pub fn pending_recent(&self, limit: usize) -> impl Iterator<Item = &Trial> {
        self.trials.iter().rev().filter(|t| t.outcome == Outcome::Pending).take(limit)
    }

    /// The id of the oldest pending trial with exactly these values, for results told without an id.
    pub fn find_pending(&self, values: &[Value]) -> Option<u64> {
        self.pending_by_key.get(&param_key(values)).and_then(|ids| ids.first().copied())
    }
}
