//! Nelder-Mead simplex search in the unit cube, for structured low-dimensional landscapes.
//!
//! Coefficients adapt to dimension (Gao & Han 2012): reflection 1, expansion 1 + 2/n, contraction
//! 0.75 - 1/(2n), shrink 1 - 1/n; the classic fixed values stall above a few dimensions. Points leaving the box
//! are mirrored back in. When the simplex collapses (or stops improving) it restarts around the best point in
//! the whole history with a fresh step, so it keeps making progress after converging to a local basin. It
//! also restarts there as soon as another source (the controller's exploration stream) has found a point
//! better than the simplex's best.
//!
//! It is pull-based: it proposes one point, then reads that trial's result from the history by id. Failed
//! trials count as worse than any result, so the simplex moves away from them.

use serde::{Deserialize, Serialize};

use super::bounds::mirror_point;
use super::{Context, Strategy, StrategyKind};
use crate::history::Outcome;
use crate::rng::Rng;

/// Simplex diameter (unit cube) under which the simplex counts as collapsed.
const COLLAPSE_DIAMETER: f64 = 1e-9;
/// Iterations without improving the simplex's best before restarting.
const STALL_ITERATIONS: usize = 60;
/// Asks served elsewhere while waiting for one vertex before it counts as failed: a result that is never
/// told must not stall the simplex forever.
const PATIENCE: usize = 4;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
enum Stage {
    /// Evaluating the points in `queue`, adding each to the simplex (initial build or shrink).
    Fill,
    Reflect,
    Expand {
        reflected: Vec<f64>,
        f_reflected: f64,
    },
    ContractOutside {
        reflected: Vec<f64>,
        f_reflected: f64,
    },
    ContractInside,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NelderMead {
    dim: usize,
    /// Evaluated vertices, kept sorted best first between iterations.
    simplex: Vec<(Vec<f64>, f64)>,
    queue: Vec<Vec<f64>>,
    stage: Stage,
    /// The point proposed last and not yet accepted.
    candidate: Option<Vec<f64>>,
    /// The trial whose result the next step needs.
    waiting_on: Option<(u64, Vec<f64>)>,
    restarts: u32,
    stalled: usize,
    initial_step: f64,
    /// Proposals declined while waiting for `waiting_on`.
    waited: usize,
}

impl NelderMead {
    pub fn new(dim: usize) -> Self {
        NelderMead {
            dim,
            simplex: Vec::new(),
            queue: Vec::new(),
            stage: Stage::Fill,
            candidate: None,
            waiting_on: None,
            restarts: 0,
            stalled: 0,
            initial_step: 0.1,
            waited: 0,
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    fn coefficients(&self) -> (f64, f64, f64, f64) {
        let n = self.dim.max(2) as f64;
        (1.0, 1.0 + 2.0 / n, 0.75 - 1.0 / (2.0 * n), 1.0 - 1.0 / n)
    }

    /// Starts (or restarts) a simplex around the best known point.
    fn start(&mut self, ctx: &Context, rng: &mut Rng) {
        let (centre, f_centre) = match ctx.history.best() {
            Some(t) => match t.outcome {
                Outcome::Complete(v) => (t.unit.clone(), v),
                _ => (vec![0.5; self.dim], f64::INFINITY),
            },
            None => (vec![0.5; self.dim], f64::INFINITY),
        };
        let step = if self.restarts == 0 { self.initial_step } else { 0.02 + 0.18 * rng.uniform() };
        self.simplex = vec![(centre.clone(), f_centre)];
        self.queue = (0..self.dim)
            .map(|i| {
                let mut v = centre.clone();
                // Step away from the nearer wall so the first vertices are real moves, not mirrored back.
                v[i] += if centre[i] > 0.5 { -step } else { step };
                mirror_point(&v)
            })
            .rev()
            .collect();
        self.stage = Stage::Fill;
        self.stalled = 0;
    }

    fn sort(&mut self) {
        self.simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    }

    fn centroid(&self) -> Vec<f64> {
        let n = self.dim as f64;
        let mut c = vec![0.0; self.dim];
        for (x, _) in &self.simplex[..self.dim] {
            for (ci, xi) in c.iter_mut().zip(x) {
                *ci += xi / n;
            }
        }
        c
    }

    fn along(c: &[f64], x: &[f64], t: f64) -> Vec<f64> {
        // c + t (x - c), mirrored into the box
        mirror_point(&c.iter().zip(x).map(|(ci, xi)| ci + t * (xi - ci)).collect::<Vec<_>>())
    }

    fn diameter(&self) -> f64 {
        let best = &self.simplex[0].0;
        self.simplex
            .iter()
            .map(|(x, _)| x.iter().zip(best).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max))
            .fold(0.0, f64::max)
    }

    fn replace_worst(&mut self, x: Vec<f64>, f: f64) {
        let worst = self.simplex.len() - 1;
        self.simplex[worst] = (x, f);
        self.end_iteration();
    }

    fn end_iteration(&mut self) {
        let best_before = self.simplex[0].1;
        self.sort();
        self.stalled = if self.simplex[0].1 < best_before { 0 } else { self.stalled + 1 };
        self.stage = Stage::Reflect;
    }

    fn shrink(&mut self) {
        let (_, _, _, delta) = self.coefficients();
        let best = self.simplex[0].0.clone();
        self.queue = self.simplex[1..].iter().map(|(x, _)| Self::along(&best, x, delta)).rev().collect();
        self.simplex.truncate(1);
        self.stage = Stage::Fill;
    }

    /// Feeds the result `f` of point `x` into the state machine.
    fn consume(&mut self, x: Vec<f64>, f: f64) {
        match std::mem::replace(&mut self.stage, Stage::Reflect) {
            Stage::Fill => {
                self.simplex.push((x, f));
                self.stage = Stage::Fill;
                if self.queue.is_empty() {
                    self.end_iteration();
                }
            }
            Stage::Reflect => {
                let f_best = self.simplex[0].1;
                let f_second_worst = self.simplex[self.dim - 1].1;
                let f_worst = self.simplex[self.dim].1;
                if f < f_best {
                    self.stage = Stage::Expand { reflected: x, f_reflected: f };
                } else if f < f_second_worst {
                    self.replace_worst(x, f);
                } else if f < f_worst {
                    self.stage = Stage::ContractOutside { reflected: x, f_reflected: f };
                } else {
                    self.stage = Stage::ContractInside;
                }
            }
            Stage::Expand { reflected, f_reflected } => {
                if f < f_reflected {
                    self.replace_worst(x, f)
                } else {
                    self.replace_worst(reflected, f_reflected)
                }
            }
            Stage::ContractOutside { f_reflected, .. } => {
                if f <= f_reflected {
                    self.replace_worst(x, f)
                } else {
                    self.shrink()
                }
            }
            Stage::ContractInside => {
                if f < self.simplex[self.dim].1 {
                    self.replace_worst(x, f)
                } else {
                    self.shrink()
                }
            }
        }
    }

    fn next_point(&self) -> Vec<f64> {
        let (alpha, beta, gamma, _) = self.coefficients();
        match &self.stage {
            Stage::Fill => self.queue.last().cloned().unwrap_or_else(|| vec![0.5; self.dim]),
            Stage::Reflect => Self::along(&self.centroid(), &self.simplex[self.dim].0, -alpha),
            Stage::Expand { reflected, .. } => Self::along(&self.centroid(), reflected, beta),
            Stage::ContractOutside { reflected, .. } => Self::along(&self.centroid(), reflected, gamma),
            Stage::ContractInside => Self::along(&self.centroid(), &self.simplex[self.dim].0, gamma),
        }
    }

    fn needs_restart(&self, ctx: &Context) -> bool {
        matches!(self.stage, Stage::Reflect)
            && (self.diameter() < COLLAPSE_DIAMETER
                || self.stalled >= STALL_ITERATIONS
                || self.beaten_elsewhere(ctx))
    }

    /// Another source (the exploration stream) found a point better than the simplex's best: that point
    /// lies in another basin, and the simplex moves there rather than polish the basin it is in.
    fn beaten_elsewhere(&self, ctx: &Context) -> bool {
        ctx.history.best_value().is_some_and(|best| best < self.simplex[0].1)
    }
}

impl Strategy for NelderMead {
    fn kind(&self) -> StrategyKind {
        StrategyKind::NelderMead
    }

    fn propose(&mut self, ctx: &Context, rng: &mut Rng) -> Option<Vec<f64>> {
        if let Some((id, x)) = self.waiting_on.clone() {
            let f = match ctx.history.get(id).map(|t| t.outcome) {
                Some(Outcome::Pending) if self.waited < PATIENCE => {
                    self.waited += 1;
                    return None;
                }
                Some(Outcome::Complete(v)) => v,
                _ => f64::INFINITY,
            };
            self.waiting_on = None;
            self.waited = 0;
            if matches!(self.stage, Stage::Fill) {
                self.queue.pop();
            }
            self.consume(x, f);
        }
        if self.simplex.is_empty() || self.needs_restart(ctx) {
            if !self.simplex.is_empty() {
                self.restarts += 1;
            }
            self.start(ctx, rng);
        }
        let x = self.next_point();
        self.candidate = Some(x.clone());
        Some(x)
    }

    fn accepted(&mut self, id: u64) {
        if let Some(x) = self.candidate.take() {
            self.waiting_on = Some((id, x));
        }
    }

    fn duplicate_of(&mut self, id: u64) {
        // The point exists already: its result (when it arrives) is the result of our point.
        self.accepted(id);
    }
}
