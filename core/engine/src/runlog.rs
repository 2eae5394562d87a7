//! The auditable run record: a header (space and config) followed by every call that changed the solver and
//! every strategy decision, in order. Exported as JSON lines; `replay` re-issues the calls on a fresh solver
//! and checks that every suggestion comes out identical.

use serde::{Deserialize, Serialize};

use crate::error::{ArqonError, Result};
use crate::solver::{Solver, SolverConfig};
use crate::space::{Space, Value};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Header {
        format: u32,
        space: Space,
        config: SolverConfig,
    },
    /// One `ask(n)` call and what it returned: (id, values, source) per suggestion.
    Ask {
        requested: usize,
        suggestions: Vec<Suggested>,
    },
    Tell {
        id: u64,
        value: Option<f64>,
    },
    /// A point the solver did not propose: pending (`value` absent) or with a result (`value` null = failed).
    External {
        id: u64,
        values: Vec<Value>,
        pending: bool,
        value: Option<f64>,
    },
    Reseed {
        seed: u64,
    },
    Decision {
        after_results: usize,
        phase: String,
        strategy: String,
        score: Option<f64>,
        reason: String,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Suggested {
    pub id: u64,
    pub values: Vec<Value>,
    pub source: String,
}

pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RunLog {
    events: Vec<Event>,
}

impl RunLog {
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            // Events hold only finite floats and plain data, so serialization cannot fail.
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
            out.push('\n');
        }
        out
    }

    pub fn from_jsonl(text: &str) -> Result<Self> {
        let events = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| ArqonError::Replay(format!("line {}: {e}", i + 1)))
            })
            .collect::<Result<Vec<Event>>>()?;
        Ok(RunLog { events })
    }
}

/// Serde adapter that stores a run record as its JSON-lines text. The events are internally tagged (the
/// `"event"` key of each line), which compact binary formats such as the snapshot's cannot decode.
pub mod as_jsonl {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    use super::RunLog;

    pub fn serialize<S: Serializer>(log: &RunLog, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&log.to_jsonl())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<RunLog, D::Error> {
        let text = String::deserialize(deserializer)?;
        RunLog::from_jsonl(&text).map_err(D::Error::custom)
    }
}

/// What a successful replay checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    pub asks: usize,
    pub suggestions: usize,
    pub tells: usize,
    pub decisions: usize,
}

/// Rebuilds a solver from the record's header and re-issues every recorded call, failing on the first
/// suggestion or decision that differs. Returns the replayed solver's report.
pub fn replay(text: &str) -> Result<(Solver, ReplayReport)> {
    let log = RunLog::from_jsonl(text)?;
    let mut events = log.events.iter();
    let mut solver = match events.next() {
        Some(Event::Header { format, space, config }) => {
            if *format != FORMAT_VERSION {
                return Err(ArqonError::Replay(format!("unsupported record format {format}")));
            }
            Solver::new(space.clone(), config.clone())?
        }
        _ => return Err(ArqonError::Replay("the record does not start with a header".into())),
    };
    let mut report = ReplayReport { asks: 0, suggestions: 0, tells: 0, decisions: 0 };
    for event in events {
        replay_event(&mut solver, event, &mut report)?;
    }
    let is_decision = |e: &&Event| matches!(e, Event::Decision { .. });
    let recorded: Vec<&Event> = log.events.iter().filter(is_decision).collect();
    let produced: Vec<&Event> = solver.record().events().iter().filter(is_decision).collect();
    if recorded != produced {
        return Err(ArqonError::Replay(format!(
            "strategy decisions differ: recorded {recorded:?}, replay made {produced:?}"
        )));
    }
    Ok((solver, report))
}

fn replay_event(solver: &mut Solver, event: &Event, report: &mut ReplayReport) -> Result<()> {
    match event {
        Event::Header { .. } => return Err(ArqonError::Replay("a second header in the record".into())),
        Event::Ask { requested, suggestions } => {
            let got = solver.ask(*requested);
            report.asks += 1;
            report.suggestions += got.len();
            if got.len() != suggestions.len() {
                return Err(ArqonError::Replay(format!(
                    "ask #{}: recorded {} suggestions, replay gave {}",
                    report.asks,
                    suggestions.len(),
                    got.len()
                )));
            }
            for (g, s) in got.iter().zip(suggestions) {
                if g.id != s.id || g.values != s.values {
                    return Err(ArqonError::Replay(format!(
                        "trial {}: recorded {:?}, replay gave trial {} {:?}",
                        s.id, s.values, g.id, g.values
                    )));
                }
            }
        }
        Event::Tell { id, value } => {
            report.tells += 1;
            solver.tell(*id, *value)?;
        }
        Event::External { id, values, pending, value } => {
            let got = if *pending {
                solver.add_pending(values.clone())?
            } else {
                solver.add_result(values.clone(), *value)?
            };
            if got != *id {
                return Err(ArqonError::Replay(format!(
                    "external point recorded as {id}, replay gave {got}"
                )));
            }
        }
        Event::Reseed { seed } => solver.reseed(*seed),
        Event::Decision { .. } => report.decisions += 1,
    }
    Ok(())
}
