//! Refinement strategies. One algorithm per file; each works in the unit cube, reads the shared history and
//! never sees parameter names or framework objects.
//!
//! Strategies are pull-based: `propose` returns the next point (or None while it waits on results it needs),
//! `accepted` tells it which trial id its proposal became, and it reads results back from the history by id.
//! That keeps them correct under late, out-of-order and missing tells.

use serde::{Deserialize, Serialize};

use crate::history::History;
use crate::rng::Rng;
use crate::space::Space;

/// Names every source of suggestions, for the run record and the Python `strategy` property.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum StrategyKind {
    Probe,
    NelderMead,
    Tpe,
    Cmaes,
}

impl StrategyKind {
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Probe => "probe",
            StrategyKind::NelderMead => "nelder_mead",
            StrategyKind::Tpe => "tpe",
            StrategyKind::Cmaes => "cmaes",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [StrategyKind::Probe, StrategyKind::NelderMead, StrategyKind::Tpe, StrategyKind::Cmaes]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// What a strategy may look at when proposing.
pub struct Context<'a> {
    pub space: &'a Space,
    pub history: &'a History,
}

pub trait Strategy {
    fn kind(&self) -> StrategyKind;
    /// The next point in [0, 1]^d, or None while the strategy needs pending results first.
    fn propose(&mut self, ctx: &Context, rng: &mut Rng) -> Option<Vec<f64>>;
    /// The last proposal was accepted as trial `id`.
    fn accepted(&mut self, _id: u64) {}
    /// The last proposal duplicated an existing trial `id`; the strategy may adopt that trial's result.
    fn duplicate_of(&mut self, _id: u64) {}
}

pub mod bounds;
pub mod cmaes;
pub mod eigen;
pub mod nelder_mead;
pub mod tpe;
