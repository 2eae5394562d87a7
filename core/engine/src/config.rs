//! The seed's JSON API: the config (`seed`, `budget`, `bounds`, plus extensions) and result payloads.
//! Unknown keys and wrong types are errors, never silently ignored.

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::error::{ArqonError, Result};
use crate::solver::{SolverConfig, StrategyChoice};
use crate::space::{Param, Space, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    budget: Option<u64>,
    bounds: Map<String, Json>,
    #[serde(default)]
    strategy: Option<String>,
    #[serde(default)]
    probe_size: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBound {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    scale: Option<String>,
    #[serde(default)]
    step: Option<f64>,
    #[serde(default)]
    choices: Option<Vec<Json>>,
}

/// A parsed config: the space, the solver settings, and the JSON choices of each categorical parameter.
pub struct ParsedConfig {
    pub space: Space,
    pub config: SolverConfig,
    pub choices: Vec<Option<Vec<Json>>>,
}

pub fn parse_config(text: &str) -> Result<ParsedConfig> {
    let raw: RawConfig =
        from_json_text(text).map_err(|e| ArqonError::Config(format!("invalid config: {e}")))?;
    let strategy = match raw.strategy.as_deref() {
        None => StrategyChoice::Auto,
        Some(name) => StrategyChoice::from_name(name).ok_or_else(|| {
            ArqonError::Config(format!(
                "config 'strategy': unknown strategy '{name}' (expected auto, probe, nelder_mead, tpe or cmaes)"
            ))
        })?,
    };
    let mut params = Vec::with_capacity(raw.bounds.len());
    let mut choices = Vec::with_capacity(raw.bounds.len());
    for (name, bound) in &raw.bounds {
        let (param, param_choices) = parse_bound(name, bound)?;
        params.push(param);
        choices.push(param_choices);
    }
    let space = Space::new(params)?;
    let config = SolverConfig { seed: raw.seed, budget: raw.budget, strategy, probe_size: raw.probe_size };
    Ok(ParsedConfig { space, config, choices })
}

/// Parses JSON text, naming the offending field in type errors ("budget: invalid value: ...").
fn from_json_text<T: serde::de::DeserializeOwned>(text: &str) -> std::result::Result<T, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| describe(&e))?;
    deserializer.end().map_err(|e| e.to_string())?;
    Ok(value)
}

fn describe(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    match error.path().to_string().as_str() {
        "." | "" => error.inner().to_string(),
        path => format!("'{path}': {}", error.inner()),
    }
}

fn parse_bound(name: &str, bound: &Json) -> Result<(Param, Option<Vec<Json>>)> {
    let raw: RawBound = serde_path_to_error::deserialize(bound.clone())
        .map_err(|e| ArqonError::space(name, format!("invalid bound: {}", describe(&e))))?;
    let log = match raw.scale.as_deref() {
        None | Some("Linear") | Some("linear") => false,
        Some("Log") | Some("log") => true,
        Some(other) => {
            return Err(ArqonError::space(
                name,
                format!("scale must be \"Linear\" or \"Log\", got \"{other}\""),
            ))
        }
    };
    match raw.kind.as_deref().unwrap_or("float") {
        "float" => {
            reject_choices(name, &raw)?;
            let (low, high) = require_range(name, &raw)?;
            Ok((Param::float(name, low, high, log, raw.step)?, None))
        }
        "int" => {
            reject_choices(name, &raw)?;
            let (low, high) = require_range(name, &raw)?;
            let step = raw.step.unwrap_or(1.0);
            Ok((
                Param::int(
                    name,
                    as_int(name, "min", low)?,
                    as_int(name, "max", high)?,
                    log,
                    as_int(name, "step", step)?,
                )?,
                None,
            ))
        }
        "categorical" => {
            if raw.min.is_some() || raw.max.is_some() || raw.step.is_some() || raw.scale.is_some() {
                return Err(ArqonError::space(name, "a categorical takes only \"choices\""));
            }
            let list = raw.choices.ok_or_else(|| ArqonError::space(name, "categorical needs \"choices\""))?;
            Ok((Param::categorical(name, list.len())?, Some(list)))
        }
        other => Err(ArqonError::space(
            name,
            format!("type must be \"float\", \"int\" or \"categorical\", got \"{other}\""),
        )),
    }
}

fn reject_choices(name: &str, raw: &RawBound) -> Result<()> {
    if raw.choices.is_some() {
        return Err(ArqonError::space(name, "\"choices\" needs \"type\": \"categorical\""));
    }
    Ok(())
}

fn require_range(name: &str, raw: &RawBound) -> Result<(f64, f64)> {
    match (raw.min, raw.max) {
        (Some(lo), Some(hi)) => Ok((lo, hi)),
        _ => Err(ArqonError::space(name, "needs both \"min\" and \"max\"")),
    }
}

fn as_int(name: &str, field: &str, x: f64) -> Result<i64> {
    if x.fract() != 0.0 || x.abs() > 9.0e15 {
        return Err(ArqonError::space(name, format!("\"{field}\" must be an integer, got {x}")));
    }
    Ok(x as i64)
}

/// Converts a JSON value to the engine value of `param`, with `choices` for categoricals.
pub fn json_to_value(param: &Param, choices: Option<&[Json]>, json: &Json) -> Result<Value> {
    use crate::space::ParamKind;
    match (&param.kind, choices) {
        (ParamKind::Categorical { .. }, Some(list)) => {
            list.iter().position(|c| c == json).map(Value::Choice).ok_or_else(|| {
                ArqonError::parameter(&param.name, format!("{json} is not one of the choices"))
            })
        }
        (ParamKind::Float { .. }, _) => json
            .as_f64()
            .map(Value::Float)
            .ok_or_else(|| ArqonError::parameter(&param.name, format!("expected a number, got {json}"))),
        (ParamKind::Int { .. }, _) => match (json.as_i64(), json.as_f64()) {
            (Some(i), _) => Ok(Value::Int(i)),
            (None, Some(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Value::Int(x as i64)),
            _ => Err(ArqonError::parameter(&param.name, format!("expected an integer, got {json}"))),
        },
        (ParamKind::Categorical { .. }, None) => {
            Err(ArqonError::parameter(&param.name, "no choices known for this categorical"))
        }
    }
}

/// One parsed result of the seed's `tell` payload.
pub struct ParsedResult {
    pub id: Option<u64>,
    pub params: Option<Map<String, Json>>,
    pub value: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResult {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    params: Option<Map<String, Json>>,
    value: Option<f64>,
    #[serde(default)]
    #[allow(dead_code)]
    cost: Option<f64>,
}

/// Parses `[{"params": {...}, "value": v, "cost": c, "id": optional}, ...]` (a single object is accepted too).
/// Python's `json.dumps` writes NaN and Infinity as bare tokens, which JSON forbids; they mean a failed trial,
/// so they are read as null.
pub fn parse_results(text: &str) -> Result<Vec<ParsedResult>> {
    let cleaned = replace_non_finite_tokens(text);
    let json: Json = serde_json::from_str(&cleaned)
        .map_err(|e| ArqonError::Config(format!("invalid results JSON: {e}")))?;
    let items = match json {
        Json::Array(items) => items,
        obj @ Json::Object(_) => vec![obj],
        other => return Err(ArqonError::Config(format!("results must be a list of objects, got {other}"))),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let raw: RawResult =
                serde_json::from_value(item).map_err(|e| ArqonError::Config(format!("result #{i}: {e}")))?;
            if raw.id.is_none() && raw.params.is_none() {
                return Err(ArqonError::Config(format!("result #{i}: needs \"params\" or \"id\"")));
            }
            Ok(ParsedResult { id: raw.id, params: raw.params, value: raw.value })
        })
        .collect()
}

fn replace_non_finite_tokens(text: &str) -> std::borrow::Cow<'_, str> {
    if !(text.contains("NaN") || text.contains("Infinity")) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let token = ["-Infinity", "Infinity", "NaN"].into_iter().find(|t| rest.starts_with(t));
        match token {
            Some(t) => {
                out.push_str("null");
                rest = &rest[t.len()..];
            }
            None => {
                in_string = c == '"';
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_config_parses() {
        let cfg = parse_config(
            r#"{"seed": 42, "budget": 100, "bounds": {"learning_rate": {"min": 1e-5, "max": 1e-1, "scale": "Log"},
                "batch_size": {"min": 16, "max": 256}}}"#,
        )
        .unwrap();
        assert_eq!(cfg.space.dim(), 2);
        assert_eq!(cfg.space.params()[0].name, "learning_rate");
        assert_eq!(cfg.config.budget, Some(100));
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(parse_config(r#"{"bounds": {"x": {"min": 0, "max": 1}}, "sed": 1}"#).is_err());
        let e = parse_config(r#"{"bounds": {"x": {"min": 0, "max": 1, "scal": "Log"}}}"#).err().unwrap();
        assert!(e.to_string().contains("'x'"), "{e}");
    }

    #[test]
    fn nan_tokens_read_as_failures_but_not_inside_strings() {
        let r = parse_results(r#"[{"params": {"c": "NaN"}, "value": NaN}, {"id": 3, "value": -Infinity}]"#)
            .unwrap();
        assert_eq!(r[0].value, None);
        assert_eq!(r[0].params.as_ref().unwrap()["c"], Json::String("NaN".into()));
        assert_eq!(r[1].id, Some(3));
    }
}
