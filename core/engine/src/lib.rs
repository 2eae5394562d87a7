//! `arqonhpo-core`: the ArqonHPO decision engine in pure Rust.
//!
//! A [`Solver`] owns a [`Space`], a seeded probe design, the trial [`History`] and the PCR controller
//! (Probe, Classify, Refine). It knows nothing of Python or of any framework.

pub mod classify;
pub mod config;
pub mod error;
pub mod history;
pub mod pcr;
pub mod probe;
pub mod rng;
pub mod runlog;
pub mod solver;
pub mod space;
pub mod strategy;

pub use error::{ArqonError, Result};
pub use history::{History, Outcome, Source, Trial};
pub use runlog::{replay, Event, ReplayReport, RunLog};
pub use solver::{Solver, SolverConfig, StrategyChoice, Suggestion};
pub use space::{Param, ParamKind, Space, Value};
