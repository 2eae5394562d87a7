//! PyO3 bindings: the module `arqonhpo._core`. This crate converts between Python objects and engine values,
//! releases the GIL around engine work and maps engine errors to the Python exception hierarchy. It holds no
//! algorithm.
//!
//! Locking rule: the solver mutex is never held while touching Python objects, so a thread blocked on the
//! mutex can never be waiting for a GIL holder (no deadlock), and Python values are converted before locking.

use std::sync::{Mutex, MutexGuard};

use arqonhpo_core::config::{json_to_value, parse_config, parse_results};
use arqonhpo_core::{
    ArqonError, Outcome, Param, ParamKind, Solver, SolverConfig, Space, StrategyChoice, Value,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyList, PyString, PyTuple};
use serde_json::Value as Json;

mod convert;

use convert::{json_to_py, py_to_json};

/// Runs engine work, turning a panic (a bug by definition) into an `ArqonError` instead of letting
/// `PanicException`, a BaseException that `except Exception` cannot catch, reach the caller. The history is
/// append-only and every result is recorded before any strategy runs, so recorded results survive.
fn guarded<T>(work: impl FnOnce() -> T) -> Result<T, ArqonError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        ArqonError::Internal(format!("internal engine error ({detail}); please report it"))
    })
}

/// Maps an engine error to the Python class of the same meaning, defined in `arqonhpo._errors`.
fn to_py_err(py: Python<'_>, err: ArqonError) -> PyErr {
    let class = match &err {
        ArqonError::SearchSpace { .. } => "SearchSpaceError",
        ArqonError::Parameter { .. } => "ParameterError",
        ArqonError::Config(_) => "ConfigError",
        ArqonError::UnknownTrial(_) => "UnknownTrialError",
        ArqonError::TrialState { .. } => "TrialStateError",
        ArqonError::Snapshot(_) => "SnapshotError",
        ArqonError::Replay(_) => "ReplayMismatchError",
        ArqonError::Internal(_) => "ArqonError",
    };
    let message = err.to_string();
    match py.import("arqonhpo._errors").and_then(|m| m.getattr(class)) {
        Ok(cls) => match cls.call1((message.clone(),)) {
            Ok(instance) => PyErr::from_value(instance),
            Err(e) => e,
        },
        Err(_) => PyValueError::new_err(message),
    }
}

/// One row of `Engine.trials()`: (id, params, state, value, source).
type TrialRow<'py> = (u64, Bound<'py, PyDict>, &'static str, Option<f64>, String);
/// What `__reduce__` returns: the constructor and its arguments (snapshot bytes, choice objects).
type Reduced<'py> = (Bound<'py, PyAny>, (Bound<'py, PyBytes>, Vec<Option<Vec<Py<PyAny>>>>));

/// A suggestion handed to Python: the trial id and its parameters as a dict.
#[pyclass(module = "arqonhpo._core", name = "Trial", frozen, get_all)]
struct PyTrial {
    id: u64,
    params: Py<PyDict>,
}

#[pymethods]
impl PyTrial {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Trial(id={}, params={})", self.id, self.params.bind(py).repr()?))
    }
}

#[pyclass(module = "arqonhpo._core", name = "Engine", frozen)]
struct Engine {
    solver: Mutex<Solver>,
    names: Vec<Py<PyString>>,
    /// The caller's choice objects per categorical parameter (None for numeric ones).
    choices: Vec<Option<Vec<Py<PyAny>>>>,
    /// The space and the choices as JSON, fixed at construction: converting Python params and JSON results
    /// reads them on every call, so they are derived once here rather than per call (or under the lock).
    space: Space,
    json_choices: Vec<Option<Vec<Json>>>,
}

impl Engine {
    fn build(py: Python<'_>, solver: Solver, choices: Vec<Option<Vec<Py<PyAny>>>>) -> PyResult<Self> {
        let space = solver.space().clone();
        let names = space.params().iter().map(|p| PyString::intern(py, &p.name).unbind()).collect();
        let json_choices = choices
            .iter()
            .map(|c| {
                c.as_ref()
                    .map(|list| list.iter().map(|o| py_to_json(o.bind(py))).collect::<PyResult<Vec<_>>>())
                    .transpose()
            })
            .collect::<PyResult<_>>()?;
        Ok(Engine { solver: Mutex::new(solver), names, choices, space, json_choices })
    }

    fn lock(&self) -> MutexGuard<'_, Solver> {
        // The engine never panics by design; should a bug ever poison the lock, the state is still the last
        // consistent one because every mutation completes before returning.
        self.solver.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn values_to_dict<'py>(&self, py: Python<'py>, values: &[Value]) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for ((name, value), choices) in self.names.iter().zip(values).zip(&self.choices) {
            let obj: Bound<'py, PyAny> = match (*value, choices) {
                (Value::Float(x), _) => PyFloat::new(py, x).into_any(),
                (Value::Int(i), _) => i.into_pyobject(py)?.into_any(),
                (Value::Choice(c), Some(list)) => list[c].bind(py).clone(),
                (Value::Choice(c), None) => c.into_pyobject(py)?.into_any(),
            };
            dict.set_item(name.bind(py), obj)?;
        }
        Ok(dict)
    }

    /// Python params dict -> engine values, in declaration order. Names must match the space exactly.
    fn dict_to_values(&self, py: Python<'_>, params: &Bound<'_, PyDict>) -> PyResult<Vec<Value>> {
        let solver_space = &self.space;
        let mut values = Vec::with_capacity(self.names.len());
        for ((param, name), choices) in solver_space.params().iter().zip(&self.names).zip(&self.choices) {
            let item = params.get_item(name.bind(py))?.ok_or_else(|| {
                to_py_err(
                    py,
                    ArqonError::Parameter {
                        param: param.name.clone(),
                        message: "missing from params".into(),
                    },
                )
            })?;
            values.push(py_to_value(py, param, choices.as_deref(), &item)?);
        }
        if params.len() != values.len() {
            for key in params.keys() {
                let key: String = key.str()?.to_string();
                if solver_space.position(&key).is_none() {
                    return Err(to_py_err(
                        py,
                        ArqonError::Parameter { param: key, message: "not in the search space".into() },
                    ));
                }
            }
        }
        Ok(values)
    }
}

fn py_to_value(
    py: Python<'_>,
    param: &Param,
    choices: Option<&[Py<PyAny>]>,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Value> {
    let bad = |message: String| to_py_err(py, ArqonError::Parameter { param: param.name.clone(), message });
    match (&param.kind, choices) {
        (ParamKind::Categorical { .. }, Some(list)) => {
            for (i, choice) in list.iter().enumerate() {
                if same_choice(choice.bind(py), obj)? {
                    return Ok(Value::Choice(i));
                }
            }
            Err(bad(format!("{} is not one of the choices", obj.repr()?)))
        }
        (ParamKind::Float { .. }, _) => {
            if obj.is_instance_of::<PyBool>() {
                return Err(bad("expected a number, got a bool".into()));
            }
            let x: f64 = obj.extract().map_err(|_| {
                bad(format!(
                    "expected a number, got {}",
                    obj.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?;
            if !x.is_finite() {
                return Err(bad(format!("value must be finite, got {x}")));
            }
            Ok(Value::Float(x))
        }
        (ParamKind::Int { .. }, _) => {
            if obj.is_instance_of::<PyBool>() {
                return Err(bad("expected an integer, got a bool".into()));
            }
            if let Ok(i) = obj.extract::<i64>() {
                return Ok(Value::Int(i));
            }
            match obj.extract::<f64>() {
                Ok(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Value::Int(x as i64)),
                _ => Err(bad(format!("expected an integer, got {}", obj.repr()?))),
            }
        }
        (ParamKind::Categorical { .. }, None) => Err(bad("no choices known for this categorical".into())),
    }
}

/// Choice identity: same type and equal (so True, 1 and 1.0 stay distinct choices), or the same object.
fn same_choice(choice: &Bound<'_, PyAny>, obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    if choice.is(obj) {
        return Ok(true);
    }
    if !choice.get_type().is(obj.get_type()) {
        return Ok(false);
    }
    Ok(choice.eq(obj).unwrap_or(false))
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pending => "pending",
        Outcome::Complete(_) => "complete",
        Outcome::Failed => "failed",
    }
}

fn parse_spec(spec: &Bound<'_, PyTuple>) -> PyResult<(Param, Option<Vec<Py<PyAny>>>)> {
    let py = spec.py();
    let kind: String = spec.get_item(0)?.extract()?;
    let name: String = spec.get_item(1)?.extract()?;
    let param = match kind.as_str() {
        "float" => Param::float(
            &name,
            spec.get_item(2)?.extract()?,
            spec.get_item(3)?.extract()?,
            spec.get_item(4)?.extract()?,
            spec.get_item(5)?.extract()?,
        ),
        "int" => Param::int(
            &name,
            spec.get_item(2)?.extract()?,
            spec.get_item(3)?.extract()?,
            spec.get_item(4)?.extract()?,
            spec.get_item(5)?.extract()?,
        ),
        "categorical" => {
            let list: Vec<Py<PyAny>> = spec.get_item(2)?.extract()?;
            let p = Param::categorical(&name, list.len()).map_err(|e| to_py_err(py, e))?;
            return Ok((p, Some(list)));
        }
        other => return Err(PyValueError::new_err(format!("unknown parameter kind {other:?}"))),
    };
    Ok((param.map_err(|e| to_py_err(py, e))?, None))
}

#[pymethods]
impl Engine {
    /// `specs`: tuples ("float", name, low, high, log, step|None), ("int", name, low, high, log, step) or
    /// ("categorical", name, [choices]), in declaration order.
    #[new]
    #[pyo3(signature = (specs, seed=0, budget=None, strategy="auto", probe_size=None))]
    fn new(
        py: Python<'_>,
        specs: Vec<Bound<'_, PyTuple>>,
        seed: u64,
        budget: Option<u64>,
        strategy: &str,
        probe_size: Option<usize>,
    ) -> PyResult<Self> {
        let mut params = Vec::with_capacity(specs.len());
        let mut choices = Vec::with_capacity(specs.len());
        for spec in &specs {
            let (p, c) = parse_spec(spec)?;
            params.push(p);
            choices.push(c);
        }
        let strategy = StrategyChoice::from_name(strategy).ok_or_else(|| {
            to_py_err(py, ArqonError::Config(format!("strategy: unknown strategy {strategy:?} (expected auto, probe, nelder_mead, tpe or cmaes)")))
        })?;
        let space = Space::new(params).map_err(|e| to_py_err(py, e))?;
        let config = SolverConfig { seed, budget, strategy, probe_size };
        let solver = Solver::new(space, config).map_err(|e| to_py_err(py, e))?;
        Engine::build(py, solver, choices)
    }

    /// Builds an engine from the seed's JSON config.
    #[staticmethod]
    fn from_json(py: Python<'_>, config: &str) -> PyResult<Self> {
        let parsed = parse_config(config).map_err(|e| to_py_err(py, e))?;
        let choices = parsed
            .choices
            .iter()
            .map(|c| {
                c.as_ref()
                    .map(|list| list.iter().map(|j| json_to_py(py, j)).collect::<PyResult<Vec<_>>>())
                    .transpose()
            })
            .collect::<PyResult<Vec<_>>>()?;
        let solver = Solver::new(parsed.space, parsed.config).map_err(|e| to_py_err(py, e))?;
        Engine::build(py, solver, choices)
    }

    /// `n` new trials; an empty list once the budget is spent.
    fn ask_trials(&self, py: Python<'_>, n: usize) -> PyResult<Vec<PyTrial>> {
        let suggestions = py.detach(|| guarded(|| self.lock().ask(n))).map_err(|e| to_py_err(py, e))?;
        suggestions
            .iter()
            .map(|s| Ok(PyTrial { id: s.id, params: self.values_to_dict(py, &s.values)?.unbind() }))
            .collect()
    }

    /// The seed API's ask: a list of param dicts (the phase's natural batch when `n` is None), or None once
    /// the budget is spent.
    #[pyo3(signature = (n=None))]
    fn ask_dicts<'py>(&self, py: Python<'py>, n: Option<usize>) -> PyResult<Option<Bound<'py, PyList>>> {
        let suggestions = py
            .detach(|| {
                guarded(|| {
                    let mut solver = self.lock();
                    if solver.remaining() == Some(0) {
                        return None;
                    }
                    let n = n.unwrap_or_else(|| solver.natural_batch()).max(1);
                    Some(solver.ask(n))
                })
            })
            .map_err(|e| to_py_err(py, e))?;
        let Some(suggestions) = suggestions else {
            return Ok(None);
        };
        let list = PyList::empty(py);
        for s in &suggestions {
            list.append(self.values_to_dict(py, &s.values)?)?;
        }
        Ok(Some(list))
    }

    /// Records a result; None, NaN and +-inf record a failure.
    #[pyo3(signature = (trial_id, value))]
    fn tell(&self, py: Python<'_>, trial_id: u64, value: Option<f64>) -> PyResult<()> {
        self.lock().tell(trial_id, value).map_err(|e| to_py_err(py, e))
    }

    /// Records many results; stops at the first error, keeping every result before it.
    fn tell_many(&self, py: Python<'_>, results: Vec<(u64, Option<f64>)>) -> PyResult<()> {
        let outcome = py.detach(|| {
            let mut solver = self.lock();
            results.iter().try_for_each(|&(id, v)| solver.tell(id, v))
        });
        outcome.map_err(|e| to_py_err(py, e))
    }

    #[pyo3(signature = (params, value))]
    fn add_trial(&self, py: Python<'_>, params: &Bound<'_, PyDict>, value: Option<f64>) -> PyResult<u64> {
        let values = self.dict_to_values(py, params)?;
        self.lock().add_result(values, value).map_err(|e| to_py_err(py, e))
    }

    fn add_pending(&self, py: Python<'_>, params: &Bound<'_, PyDict>) -> PyResult<u64> {
        let values = self.dict_to_values(py, params)?;
        self.lock().add_pending(values).map_err(|e| to_py_err(py, e))
    }

    /// The seed API's tell: JSON text `[{"params": {...}, "value": v, "cost": c, "id": optional}, ...]`.
    /// Returns the trial id each result was recorded under.
    fn tell_json(&self, py: Python<'_>, results: &str) -> PyResult<Vec<u64>> {
        let parsed = parse_results(results).map_err(|e| to_py_err(py, e))?;
        let mut solver = self.lock();
        let mut ids = Vec::with_capacity(parsed.len());
        for (i, r) in parsed.into_iter().enumerate() {
            let recorded = match (r.id, r.params) {
                (Some(id), _) => solver.tell(id, r.value).map(|_| id),
                (None, Some(params)) => {
                    let values = json_params_to_values(&self.space, &self.json_choices, &params)
                        .map_err(|e| ArqonError::Config(format!("result #{i}: {e}")));
                    values.and_then(|v| solver.tell_by_values(v, r.value))
                }
                (None, None) => Err(ArqonError::Config(format!("result #{i}: needs \"params\" or \"id\""))),
            };
            match recorded {
                Ok(id) => ids.push(id),
                Err(e) => {
                    drop(solver);
                    return Err(to_py_err(py, e));
                }
            }
        }
        Ok(ids)
    }

    /// The seed API's tell with Python objects: a list of dicts with "params" (or "id"), "value", "cost".
    fn tell_results(&self, py: Python<'_>, results: &Bound<'_, PyList>) -> PyResult<Vec<u64>> {
        let mut ids = Vec::with_capacity(results.len());
        for (i, item) in results.iter().enumerate() {
            let item = item
                .cast_into::<PyDict>()
                .map_err(|_| to_py_err(py, ArqonError::Config(format!("result #{i}: expected a dict"))))?;
            for key in item.keys() {
                let key: String = key.str()?.to_string();
                if !["params", "value", "cost", "id"].contains(&key.as_str()) {
                    return Err(to_py_err(
                        py,
                        ArqonError::Config(format!("result #{i}: unknown key {key:?}")),
                    ));
                }
            }
            let value: Option<f64> = match item.get_item("value")? {
                Some(v) => v.extract().map_err(|_| {
                    to_py_err(
                        py,
                        ArqonError::Config(format!("result #{i}: \"value\" must be a number or None")),
                    )
                })?,
                None => {
                    return Err(to_py_err(py, ArqonError::Config(format!("result #{i}: missing \"value\""))))
                }
            };
            let id = match item.get_item("id")? {
                Some(id) if !id.is_none() => {
                    let id: u64 = id.extract()?;
                    self.lock().tell(id, value).map_err(|e| to_py_err(py, e))?;
                    id
                }
                _ => {
                    let params = item.get_item("params")?.ok_or_else(|| {
                        to_py_err(py, ArqonError::Config(format!("result #{i}: needs \"params\" or \"id\"")))
                    })?;
                    let params = params.cast_into::<PyDict>().map_err(|_| {
                        to_py_err(py, ArqonError::Config(format!("result #{i}: \"params\" must be a dict")))
                    })?;
                    let values = self.dict_to_values(py, &params)?;
                    self.lock().tell_by_values(values, value).map_err(|e| to_py_err(py, e))?
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    /// The i-th point of the seeded probe design, a pure function of (seed, i).
    fn probe_point<'py>(&self, py: Python<'py>, index: u64) -> PyResult<Bound<'py, PyDict>> {
        let values = self.lock().probe_point(index);
        self.values_to_dict(py, &values)
    }

    fn reseed(&self, seed: u64) {
        self.lock().reseed(seed);
    }

    #[getter]
    fn n_asked(&self) -> u64 {
        self.lock().n_asked()
    }

    #[getter]
    fn n_told(&self) -> usize {
        self.lock().history().n_finished()
    }

    #[getter]
    fn n_trials(&self) -> usize {
        self.lock().history().len()
    }

    #[getter]
    fn budget(&self) -> Option<u64> {
        self.lock().config().budget
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.lock().config().seed
    }

    #[getter]
    fn remaining(&self) -> Option<u64> {
        self.lock().remaining()
    }

    #[getter]
    fn phase(&self) -> &'static str {
        let solver = self.lock();
        solver.pcr().phase(solver.n_asked())
    }

    #[getter]
    fn strategy(&self) -> &'static str {
        self.lock().pcr().active().name()
    }

    #[getter]
    fn probe_size(&self) -> usize {
        self.lock().pcr().probe_size()
    }

    #[getter]
    fn param_names(&self, py: Python<'_>) -> Vec<Py<PyString>> {
        self.names.iter().map(|n| n.clone_ref(py)).collect()
    }

    /// The latest classification as a dict, or None before the first one.
    #[getter]
    fn classification<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(c) = self.lock().pcr().classification().cloned() else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("label", c.label.name())?;
        d.set_item("score", c.score)?;
        d.set_item("n_results", c.n_results)?;
        d.set_item("strategy", c.strategy.name())?;
        Ok(Some(d))
    }

    /// (params, value) of the best completed trial, or None.
    #[getter]
    fn best<'py>(&self, py: Python<'py>) -> PyResult<Option<(u64, Bound<'py, PyDict>, f64)>> {
        let best = self.lock().best().map(|t| (t.id, t.values.clone(), t.outcome));
        match best {
            Some((id, values, Outcome::Complete(v))) => Ok(Some((id, self.values_to_dict(py, &values)?, v))),
            _ => Ok(None),
        }
    }

    /// Every trial as (id, params, state, value, source), in id order.
    fn trials<'py>(&self, py: Python<'py>) -> PyResult<Vec<TrialRow<'py>>> {
        let rows: Vec<_> = self
            .lock()
            .history()
            .trials()
            .iter()
            .map(|t| (t.id, t.values.clone(), t.outcome, arqonhpo_core::solver::source_name(t.source)))
            .collect();
        rows.into_iter()
            .map(|(id, values, outcome, source)| {
                let value = match outcome {
                    Outcome::Complete(v) => Some(v),
                    _ => None,
                };
                Ok((id, self.values_to_dict(py, &values)?, outcome_name(outcome), value, source))
            })
            .collect()
    }

    /// The run record as JSON lines.
    fn run_record(&self, py: Python<'_>) -> String {
        py.detach(|| self.lock().record().to_jsonl())
    }

    /// The complete engine state (without the Python choice objects, which pickling carries separately).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = py.detach(|| self.lock().to_bytes());
        PyBytes::new(py, &bytes)
    }

    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8], choices: Vec<Option<Vec<Py<PyAny>>>>) -> PyResult<Self> {
        let solver = Solver::from_bytes(data).map_err(|e| to_py_err(py, e))?;
        let consistent = solver.space().dim() == choices.len()
            && solver.space().params().iter().zip(&choices).all(|(p, c)| match (&p.kind, c) {
                (ParamKind::Categorical { n_choices }, Some(list)) => *n_choices == list.len(),
                (ParamKind::Categorical { .. }, None) => false,
                (_, c) => c.is_none(),
            });
        if !consistent {
            return Err(to_py_err(
                py,
                ArqonError::Snapshot("choices do not match the snapshot's space".into()),
            ));
        }
        Engine::build(py, solver, choices)
    }

    /// The categorical choice objects, per parameter (None for numeric parameters).
    fn choices(&self, py: Python<'_>) -> Vec<Option<Vec<Py<PyAny>>>> {
        self.choices.iter().map(|c| c.as_ref().map(|l| l.iter().map(|o| o.clone_ref(py)).collect())).collect()
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Reduced<'py>> {
        let ctor = py.get_type::<Engine>().getattr("from_bytes")?;
        Ok((ctor, (self.to_bytes(py), self.choices(py))))
    }
}

fn json_params_to_values(
    space: &Space,
    choices: &[Option<Vec<Json>>],
    params: &serde_json::Map<String, Json>,
) -> arqonhpo_core::Result<Vec<Value>> {
    for key in params.keys() {
        if space.position(key).is_none() {
            return Err(ArqonError::Parameter {
                param: key.clone(),
                message: "not in the search space".into(),
            });
        }
    }
    space
        .params()
        .iter()
        .zip(choices)
        .map(|(p, c)| {
            let json = params.get(&p.name).ok_or_else(|| ArqonError::Parameter {
                param: p.name.clone(),
                message: "missing from params".into(),
            })?;
            json_to_value(p, c.as_deref(), json)
        })
        .collect()
}

/// Re-issues every call of a run record on a fresh engine; returns counts, raises ReplayMismatchError.
#[pyfunction]
fn replay<'py>(py: Python<'py>, record: &str) -> PyResult<Bound<'py, PyDict>> {
    let report = py.detach(|| arqonhpo_core::replay(record).map(|(_, r)| r)).map_err(|e| to_py_err(py, e))?;
    let d = PyDict::new(py);
    d.set_item("asks", report.asks)?;
    d.set_item("suggestions", report.suggestions)?;
    d.set_item("tells", report.tells)?;
    d.set_item("decisions", report.decisions)?;
    Ok(d)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_class::<PyTrial>()?;
    m.add_function(wrap_pyfunction!(replay, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
