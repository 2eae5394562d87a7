//! Parameter kinds and the unit-cube transform.
//!
//! Every strategy works in the unit cube [0, 1]^d; this module is the only place that knows how a coordinate
//! becomes a float, a log-scaled float, a value on a step grid, an integer or a categorical choice. Discrete
//! parameters split [0, 1] into equal bins, one per level, so every level is equally likely under a uniform
//! point and a strategy's continuous moves eventually cross bin edges.

use serde::{Deserialize, Serialize};

use crate::error::{ArqonError, Result};

/// Relative tolerance when checking that a float range is a whole number of steps.
const STEP_TOLERANCE: f64 = 1e-9;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum ParamKind {
    Float { low: f64, high: f64, log: bool, step: Option<f64> },
    Int { low: i64, high: i64, log: bool, step: i64 },
    Categorical { n_choices: usize },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
}

/// A decoded parameter value. Categorical values are indices into the caller's list of choices.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum Value {
    Float(f64),
    Int(i64),
    Choice(usize),
}

impl Value {
    /// A bit-exact identity used to detect duplicate suggestions.
    fn key(&self) -> u64 {
        match *self {
            // Normalise -0.0 so that it is the same point as 0.0.
            Value::Float(x) => (x + 0.0).to_bits(),
            Value::Int(i) => i as u64,
            Value::Choice(c) => c as u64,
        }
    }
}

/// Identity of a full parameter vector.
pub type ParamKey = Vec<u64>;

pub fn param_key(values: &[Value]) -> ParamKey {
    values.iter().map(Value::key).collect()
}

impl Param {
    pub fn float(name: &str, low: f64, high: f64, log: bool, step: Option<f64>) -> Result<Self> {
        if !low.is_finite() || !high.is_finite() {
            return Err(ArqonError::space(
                name,
                format!("bounds must be finite, got low={low}, high={high}"),
            ));
        }
        if low >= high {
            return Err(ArqonError::space(name, format!("low must be < high, got low={low}, high={high}")));
        }
        if log && low <= 0.0 {
            return Err(ArqonError::space(name, format!("log scale needs low > 0, got low={low}")));
        }
        if let Some(step) = step {
            if log {
                return Err(ArqonError::space(name, "log scale and step cannot be combined"));
            }
            check_float_step(name, low, high, step)?;
        }
        Ok(Param { name: name.to_string(), kind: ParamKind::Float { low, high, log, step } })
    }

    pub fn int(name: &str, low: i64, high: i64, log: bool, step: i64) -> Result<Self> {
        if low >= high {
            return Err(ArqonError::space(name, format!("low must be < high, got low={low}, high={high}")));
        }
        if log && low <= 0 {
            return Err(ArqonError::space(name, format!("log scale needs low > 0, got low={low}")));
        }
        if step <= 0 {
            return Err(ArqonError::space(name, format!("step must be > 0, got {step}")));
        }
        if log && step != 1 {
            return Err(ArqonError::space(name, "log scale needs step == 1"));
        }
        let span = (high as i128) - (low as i128);
        if span % (step as i128) != 0 {
            return Err(ArqonError::space(
                name,
                format!("high - low ({span}) must be a multiple of step ({step})"),
            ));
        }
        if span / (step as i128) >= (1i128 << 52) {
            return Err(ArqonError::space(name, "range has too many levels (at most 2^52)"));
        }
        Ok(Param { name: name.to_string(), kind: ParamKind::Int { low, high, log, step } })
    }

    pub fn categorical(name: &str, n_choices: usize) -> Result<Self> {
        if n_choices == 0 {
            return Err(ArqonError::space(name, "categorical needs at least one choice"));
        }
        Ok(Param { name: name.to_string(), kind: ParamKind::Categorical { n_choices } })
    }

    /// Number of distinct values, or None for a continuous parameter.
    pub fn levels(&self) -> Option<u64> {
        match self.kind {
            ParamKind::Float { step: None, .. } => None,
            ParamKind::Float { low, high, step: Some(step), .. } => {
                Some(float_step_count(low, high, step) + 1)
            }
            ParamKind::Int { low, high, step, .. } => {
                Some(((high as i128 - low as i128) / step as i128) as u64 + 1)
            }
            ParamKind::Categorical { n_choices } => Some(n_choices as u64),
        }
    }

    pub fn is_categorical(&self) -> bool {
        matches!(self.kind, ParamKind::Categorical { .. })
    }

    /// Unit coordinate -> value. Total: any finite or non-finite input yields an in-range value.
    pub fn decode(&self, u: f64) -> Value {
        let u = if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) };
        match self.kind {
            ParamKind::Float { low, high, log: false, step: None } => {
                Value::Float((low + u * (high - low)).clamp(low, high))
            }
            ParamKind::Float { low, high, log: true, .. } => {
                let x = (low.ln() + u * (high.ln() - low.ln())).exp();
                Value::Float(x.clamp(low, high))
            }
            ParamKind::Float { low, high, step: Some(step), .. } => {
                let idx = bin_index(u, float_step_count(low, high, step) + 1);
                Value::Float((low + idx as f64 * step).min(high))
            }
            ParamKind::Int { low, high, log: true, .. } => {
                let (a, b) = int_log_range(low, high);
                let x = (a + u * (b - a)).exp().round();
                Value::Int((x as i64).clamp(low, high))
            }
            ParamKind::Int { low, step, .. } => {
                let idx = bin_index(u, self.levels().unwrap_or(1));
                Value::Int(low + idx as i64 * step)
            }
            ParamKind::Categorical { n_choices } => Value::Choice(bin_index(u, n_choices as u64) as usize),
        }
    }

    /// Value -> unit coordinate in [0, 1]. Values outside the range are accepted (warm starts, enqueued
    /// trials may hold them) and clamped to the nearest edge; wrong kinds are an error.
    pub fn encode(&self, value: &Value) -> Result<f64> {
        let u = match (&self.kind, *value) {
            (ParamKind::Float { low, high, log, step }, Value::Float(x)) => {
                if !x.is_finite() {
                    return Err(ArqonError::parameter(&self.name, format!("value must be finite, got {x}")));
                }
                encode_float(*low, *high, *log, *step, x)
            }
            (ParamKind::Float { .. }, Value::Int(i)) => return self.encode(&Value::Float(i as f64)),
            (ParamKind::Int { low, high, log: true, .. }, Value::Int(i)) => {
                let (a, b) = int_log_range(*low, *high);
                ((i.max(1) as f64).ln() - a) / (b - a)
            }
            (ParamKind::Int { low, step, .. }, Value::Int(i)) => {
                let idx = ((i as f64 - *low as f64) / *step as f64).round();
                bin_centre(idx, self.levels().unwrap_or(1))
            }
            (ParamKind::Categorical { n_choices }, Value::Choice(c)) if c < *n_choices => {
                bin_centre(c as f64, *n_choices as u64)
            }
            (ParamKind::Categorical { n_choices }, Value::Choice(c)) => {
                return Err(ArqonError::parameter(
                    &self.name,
                    format!("choice index {c} out of range for {n_choices} choices"),
                ))
            }
            (_, other) => {
                return Err(ArqonError::parameter(&self.name, format!("value {other:?} has the wrong kind")))
            }
        };
        Ok(u.clamp(0.0, 1.0))
    }
}

fn check_float_step(name: &str, low: f64, high: f64, step: f64) -> Result<()> {
    if !step.is_finite() || step <= 0.0 {
        return Err(ArqonError::space(name, format!("step must be finite and > 0, got {step}")));
    }
    let ratio = (high - low) / step;
    if (ratio - ratio.round()).abs() > STEP_TOLERANCE * ratio.max(1.0) {
        return Err(ArqonError::space(
            name,
            format!("high - low ({}) must be a whole multiple of step ({step})", high - low),
        ));
    }
    if ratio.round() >= (1u64 << 52) as f64 {
        return Err(ArqonError::space(name, "range has too many steps (at most 2^52)"));
    }
    Ok(())
}

fn float_step_count(low: f64, high: f64, step: f64) -> u64 {
    ((high - low) / step).round() as u64
}

fn encode_float(low: f64, high: f64, log: bool, step: Option<f64>, x: f64) -> f64 {
    match (log, step) {
        (true, _) => (x.max(f64::MIN_POSITIVE).ln() - low.ln()) / (high.ln() - low.ln()),
        (false, Some(step)) => {
            let n = float_step_count(low, high, step);
            bin_centre(((x - low) / step).round(), n + 1)
        }
        (false, None) => (x - low) / (high - low),
    }
}

/// Log integers are sampled over [low - 0.5, high + 0.5] so that the end values get a whole unit interval,
/// like every interior value.
fn int_log_range(low: i64, high: i64) -> (f64, f64) {
    (((low as f64) - 0.5).max(0.5).ln(), ((high as f64) + 0.5).ln())
}

fn bin_index(u: f64, levels: u64) -> u64 {
    ((u * levels as f64) as u64).min(levels.saturating_sub(1))
}

fn bin_centre(index: f64, levels: u64) -> f64 {
    let idx = index.clamp(0.0, levels.saturating_sub(1) as f64);
    (idx + 0.5) / levels as f64
}

/// An ordered, validated list of parameters. Order is declaration order everywhere.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Space {
    params: Vec<Param>,
}

impl Space {
    pub fn new(params: Vec<Param>) -> Result<Self> {
        if params.is_empty() {
            return Err(ArqonError::space("", "the search space needs at least one parameter"));
        }
        for (i, p) in params.iter().enumerate() {
            if p.name.is_empty() {
                return Err(ArqonError::space("", format!("parameter #{i} has an empty name")));
            }
            if params[..i].iter().any(|q| q.name == p.name) {
                return Err(ArqonError::space(&p.name, "duplicate parameter name"));
            }
        }
        Ok(Space { params })
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn dim(&self) -> usize {
        self.params.len()
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    pub fn decode(&self, unit: &[f64]) -> Vec<Value> {
        self.params.iter().zip(unit).map(|(p, &u)| p.decode(u)).collect()
    }

    pub fn encode(&self, values: &[Value]) -> Result<Vec<f64>> {
        if values.len() != self.params.len() {
            return Err(ArqonError::parameter(
                "",
                format!("expected {} values, got {}", self.params.len(), values.len()),
            ));
        }
        self.params.iter().zip(values).map(|(p, v)| p.encode(v)).collect()
    }

    /// The number of distinct points if every parameter is discrete (saturating), else None.
    pub fn cardinality(&self) -> Option<u64> {
        self.params.iter().try_fold(1u64, |acc, p| p.levels().map(|l| acc.saturating_mul(l)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_parameter() {
        let e = Param::float("lr", 1.0, 0.5, false, None).unwrap_err();
        assert!(e.to_string().contains("'lr'"));
        assert!(Param::float("lr", 0.0, 1.0, true, None).is_err());
        assert!(Param::float("x", 0.0, 1.0, false, Some(0.3)).is_err());
        assert!(Param::float("x", 0.0, 1.0, false, Some(0.25)).is_ok());
        assert!(Param::float("x", 0.0, f64::INFINITY, false, None).is_err());
        assert!(Param::int("n", 1, 10, false, 2).is_err());
        assert!(Param::int("n", 1, 9, false, 2).is_ok());
        assert!(Param::int("n", 0, 9, true, 1).is_err());
        assert!(Param::categorical("c", 0).is_err());
        let dup = Space::new(vec![Param::categorical("a", 2).unwrap(), Param::categorical("a", 3).unwrap()]);
        assert!(dup.unwrap_err().to_string().contains("'a'"));
        assert!(Space::new(vec![]).is_err());
    }

    #[test]
    fn decode_hits_every_level_equally() {
        let p = Param::int("n", 1, 4, false, 1).unwrap();
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            if let Value::Int(v) = p.decode((i as f64 + 0.5) / 4000.0) {
                counts[(v - 1) as usize] += 1;
            }
        }
        assert_eq!(counts, [1000; 4]);
    }

    #[test]
    fn log_int_covers_both_ends() {
        let p = Param::int("units", 16, 1024, true, 1).unwrap();
        assert_eq!(p.decode(0.0), Value::Int(16));
        assert_eq!(p.decode(1.0), Value::Int(1024));
    }

    #[test]
    fn encode_decode_round_trip_on_grids() {
        let p = Param::float("d", 0.0, 0.5, false, Some(0.1)).unwrap();
        for k in 0..=5 {
            let v = Value::Float(k as f64 * 0.1);
            let u = p.encode(&v).unwrap();
            match p.decode(u) {
                Value::Float(x) => assert!((x - k as f64 * 0.1).abs() < 1e-12),
                other => panic!("{other:?}"),
            }
        }
        let lg = Param::float("lr", 1e-5, 1e-1, true, None).unwrap();
        let u = lg.encode(&Value::Float(1e-3)).unwrap();
        assert!((u - 0.5).abs() < 1e-12);
    }

    #[test]
    fn out_of_range_values_are_clamped_not_rejected() {
        let p = Param::float("x", 0.0, 1.0, false, None).unwrap();
        assert_eq!(p.encode(&Value::Float(7.0)).unwrap(), 1.0);
        assert!(p.encode(&Value::Float(f64::NAN)).is_err());
        assert!(p.encode(&Value::Choice(0)).is_err());
    }
}
