//! The solver: owns the space, the history, the random stream and the PCR controller, and turns
//! `ask(n)` / `tell(id, value)` into trials. Every suggestion passes through one place (`next_suggestion`)
//! that enforces the budget, bounds, the step grid and distinctness.

use serde::{Deserialize, Serialize};

use crate::error::{ArqonError, Result};
use crate::history::{History, Outcome, Source, Trial};
use crate::pcr::Pcr;
use crate::probe::ProbeDesign;
use crate::rng::{splitmix64, Rng};
use crate::runlog::{Event, RunLog, Suggested, FORMAT_VERSION};
use crate::space::{Space, Value};
use crate::strategy::Context;

/// Which refinement strategy to run after the probe. `Auto` lets the classifier decide (PCR).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StrategyChoice {
    Auto,
    Probe,
    NelderMead,
    Tpe,
    Cmaes,
}

impl StrategyChoice {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(Self::Auto),
            "probe" => Some(Self::Probe),
            "nelder_mead" => Some(Self::NelderMead),
            "tpe" => Some(Self::Tpe),
            "cmaes" => Some(Self::Cmaes),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SolverConfig {
    pub seed: u64,
    /// Maximum number of suggestions over the solver's life; None = unbounded.
    pub budget: Option<u64>,
    pub strategy: StrategyChoice,
    /// Number of probe points before the first classification; None = chosen from dimension and budget.
    pub probe_size: Option<usize>,
}

impl Default for SolverConfig {
    fn default() -> Self {
        SolverConfig { seed: 0, budget: None, strategy: StrategyChoice::Auto, probe_size: None }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub id: u64,
    pub values: Vec<Value>,
    pub source: Source,
}

/// How many times a strategy may repeat an existing point before the probe stream stands in for it.
const STRATEGY_RETRIES: usize = 4;
/// How many probe indices to skip looking for an unseen point in a crowded discrete space.
const PROBE_RETRIES: usize = 256;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Solver {
    space: Space,
    config: SolverConfig,
    design: ProbeDesign,
    rng: Rng,
    history: History,
    n_asked: u64,
    probe_cursor: u64,
    pcr: Pcr,
    #[serde(with = "crate::runlog::as_jsonl")]
    log: RunLog,
}

impl Solver {
    pub fn new(space: Space, config: SolverConfig) -> Result<Self> {
        if config.probe_size == Some(0) {
            return Err(ArqonError::Config("probe_size must be >= 1".into()));
        }
        let design = ProbeDesign::new(space.dim(), config.seed);
        let pcr = Pcr::new(&space, &config);
        let mut log = RunLog::default();
        log.push(Event::Header { format: FORMAT_VERSION, space: space.clone(), config: config.clone() });
        Ok(Solver {
            rng: Rng::new(splitmix64(config.seed)),
            space,
            config,
            design,
            history: History::default(),
            n_asked: 0,
            probe_cursor: 0,
            pcr,
            log,
        })
    }

    pub fn space(&self) -> &Space {
        &self.space
    }

    pub fn config(&self) -> &SolverConfig {
        &self.config
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn record(&self) -> &RunLog {
        &self.log
    }

    pub fn pcr(&self) -> &Pcr {
        &self.pcr
    }

    pub fn n_asked(&self) -> u64 {
        self.n_asked
    }

    pub fn remaining(&self) -> Option<u64> {
        self.config.budget.map(|b| b.saturating_sub(self.n_asked))
    }

    pub fn best(&self) -> Option<&Trial> {
        self.history.best()
    }

    /// The i-th probe point, a pure function of (seed, i).
    pub fn probe_point(&self, index: u64) -> Vec<Value> {
        self.space.decode(&self.design.point(index))
    }

    /// The batch size that suits the current phase: the rest of the probe, else what the strategy can use.
    pub fn natural_batch(&self) -> usize {
        let remaining = self.remaining().unwrap_or(u64::MAX);
        let want = self.pcr.natural_batch(self.n_asked) as u64;
        want.min(remaining) as usize
    }

    /// Up to `n` new suggestions (fewer only when the budget runs out).
    pub fn ask(&mut self, n: usize) -> Vec<Suggestion> {
        let n = self.remaining().map_or(n, |r| n.min(usize::try_from(r).unwrap_or(usize::MAX)));
        self.update_pcr();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let s = self.next_suggestion();
            out.push(s);
        }
        self.log.push(Event::Ask {
            requested: n,
            suggestions: out
                .iter()
                .map(|s| Suggested { id: s.id, values: s.values.clone(), source: source_name(s.source) })
                .collect(),
        });
        out
    }

    /// Records a result. `None` and non-finite values mean the trial failed.
    pub fn tell(&mut self, id: u64, value: Option<f64>) -> Result<()> {
        let value = value.filter(|v| v.is_finite());
        let outcome = value.map_or(Outcome::Failed, Outcome::Complete);
        self.history.finish(id, outcome)?;
        self.log.push(Event::Tell { id, value });
        Ok(())
    }

    /// Adds a finished point the solver did not propose (warm start, enqueued trial, another worker).
    pub fn add_result(&mut self, values: Vec<Value>, value: Option<f64>) -> Result<u64> {
        let value = value.filter(|v| v.is_finite());
        let outcome = value.map_or(Outcome::Failed, Outcome::Complete);
        let id = self.push_external(values.clone(), outcome)?;
        self.log.push(Event::External { id, values, pending: false, value });
        Ok(id)
    }

    /// Adds a point someone else is evaluating now; its result is told later with `tell`.
    pub fn add_pending(&mut self, values: Vec<Value>) -> Result<u64> {
        let id = self.push_external(values.clone(), Outcome::Pending)?;
        self.log.push(Event::External { id, values, pending: true, value: None });
        Ok(id)
    }

    /// A result reported by parameters rather than id (the seed's JSON API): matched to the oldest pending
    /// trial with exactly these values, else recorded as an external point.
    pub fn tell_by_values(&mut self, values: Vec<Value>, value: Option<f64>) -> Result<u64> {
        self.space.encode(&values)?;
        match self.history.find_pending(&values) {
            Some(id) => self.tell(id, value).map(|_| id),
            None => self.add_result(values, value),
        }
    }

    /// Reseeds the strategies' random stream (not the probe design).
    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(splitmix64(seed ^ 0x7265_7365_6564));
        self.log.push(Event::Reseed { seed });
    }

    fn push_external(&mut self, values: Vec<Value>, outcome: Outcome) -> Result<u64> {
        let unit = self.space.encode(&values)?;
        let id = self.history.next_id();
        self.history.push(Trial { id, unit, values, outcome, source: Source::External });
        Ok(id)
    }

    fn update_pcr(&mut self) {
        let ctx = Context { space: &self.space, history: &self.history };
        for decision in self.pcr.update(&ctx, self.n_asked) {
            self.log.push(decision);
        }
    }

    fn next_suggestion(&mut self) -> Suggestion {
        let exhausted = self.space.cardinality().is_some_and(|c| self.history.distinct_points() as u64 >= c);
        let (unit, source) =
            self.strategy_point(exhausted).unwrap_or_else(|| self.probe_stream_point(exhausted));
        let values = self.space.decode(&unit);
        let id = self.history.next_id();
        if let Source::Strategy(_) = source {
            self.pcr.accepted(id);
        }
        self.history.push(Trial { id, unit, values: values.clone(), outcome: Outcome::Pending, source });
        self.n_asked += 1;
        Suggestion { id, values, source }
    }

    /// A point from the active refinement strategy, unless it only repeats points that exist already.
    fn strategy_point(&mut self, exhausted: bool) -> Option<(Vec<f64>, Source)> {
        if self.pcr.in_probe(self.n_asked) {
            return None;
        }
        for _ in 0..STRATEGY_RETRIES {
            let ctx = Context { space: &self.space, history: &self.history };
            let (unit, kind) = self.pcr.propose(&ctx, &mut self.rng)?;
            let values = self.space.decode(&unit);
            match self.history.find_values(&values) {
                Some(existing) if !exhausted => self.pcr.duplicate_of(existing.id),
                _ => return Some((unit, Source::Strategy(kind))),
            }
        }
        None
    }

    /// The next unseen point of the probe design (the exploration stream).
    fn probe_stream_point(&mut self, exhausted: bool) -> (Vec<f64>, Source) {
        for _ in 0..PROBE_RETRIES {
            let index = self.probe_cursor;
            self.probe_cursor += 1;
            let unit = self.design.point(index);
            if exhausted || !self.history.contains_values(&self.space.decode(&unit)) {
                return (unit, Source::Probe { index });
            }
        }
        // A crowded discrete space: take a uniformly random point, still deterministic through the seed.
        let unit: Vec<f64> = (0..self.space.dim()).map(|_| self.rng.uniform()).collect();
        (unit, Source::Probe { index: self.probe_cursor - 1 })
    }

    /// Serializes the complete state (history, generator, strategy state, run record).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = SNAPSHOT_MAGIC.to_vec();
        // Serializing plain owned data into a Vec cannot fail.
        out.extend(postcard::to_stdvec(self).unwrap_or_default());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let body = bytes
            .strip_prefix(SNAPSHOT_MAGIC)
            .ok_or_else(|| ArqonError::Snapshot("not an ArqonHPO snapshot (bad magic or version)".into()))?;
        let mut solver: Solver =
            postcard::from_bytes(body).map_err(|e| ArqonError::Snapshot(e.to_string()))?;
        solver.validate_restored()?;
        solver.history.rebuild_index();
        Ok(solver)
    }

    /// Guards against well-formed but inconsistent snapshots, so that corrupt bytes give an error, not a panic.
    fn validate_restored(&self) -> Result<()> {
        let dim = self.space.dim();
        let ok_space = Space::new(self.space.params().to_vec()).is_ok() && self.design.dim() == dim;
        let ok_trials = self.history.trials().iter().enumerate().all(|(i, t)| {
            t.id == i as u64
                && t.unit.len() == dim
                && t.values.len() == dim
                && self.space.encode(&t.values).is_ok()
        });
        if ok_space && ok_trials && self.pcr.is_consistent(dim) {
            Ok(())
        } else {
            Err(ArqonError::Snapshot("inconsistent solver state".into()))
        }
    }
}

const SNAPSHOT_MAGIC: &[u8] = b"ARQN\x01";

pub fn source_name(source: Source) -> String {
    match source {
        Source::Probe { index } => format!("probe:{index}"),
        Source::Strategy(kind) => kind.name().to_string(),
        Source::External => "external".to_string(),
    }
}
