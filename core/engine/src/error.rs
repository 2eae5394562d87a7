//! The engine's one error type. The bindings map each variant to one Python exception class.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ArqonError {
    /// A parameter definition is invalid; `param` names it (empty for space-wide problems).
    #[error("parameter '{param}': {message}")]
    SearchSpace { param: String, message: String },
    /// A parameter *value* does not fit the space (wrong type, unknown name, missing name, not finite).
    #[error("parameter '{param}': {message}")]
    Parameter { param: String, message: String },
    /// A JSON config or result payload is malformed.
    #[error("{0}")]
    Config(String),
    #[error("unknown trial id {0}")]
    UnknownTrial(u64),
    #[error("trial {id}: {message}")]
    TrialState { id: u64, message: String },
    #[error("invalid snapshot: {0}")]
    Snapshot(String),
    #[error("replay mismatch: {0}")]
    Replay(String),
    /// A bug caught at the boundary (a panic turned into an error); the state recorded so far is intact.
    #[error("{0}")]
    Internal(String),
}

impl ArqonError {
    pub(crate) fn space(param: &str, message: impl Into<String>) -> Self {
        ArqonError::SearchSpace { param: param.to_string(), message: message.into() }
    }

    pub(crate) fn parameter(param: &str, message: impl Into<String>) -> Self {
        ArqonError::Parameter { param: param.to_string(), message: message.into() }
    }
}

pub type Result<T> = std::result::Result<T, ArqonError>;
