//! JSON <-> Python conversion for categorical choices of JSON configs.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use serde_json::Value as Json;

pub fn json_to_py(py: Python<'_>, json: &Json) -> PyResult<Py<PyAny>> {
    Ok(match json {
        Json::Null => py.None(),
        Json::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any().unbind(),
            (None, Some(x)) => PyFloat::new(py, x).into_any().unbind(),
            _ => return Err(PyValueError::new_err(format!("unsupported number {n}"))),
        },
        Json::String(s) => PyString::new(py, s).into_any().unbind(),
        Json::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Json::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

/// Python choice object -> JSON, for matching results told as JSON text. Objects JSON cannot hold map to
/// their repr, which never equals a JSON value a user could send, so they simply cannot be matched by JSON.
pub fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Json> {
    if obj.is_none() {
        return Ok(Json::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Json::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Json::from(i));
        }
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        if let Some(n) = serde_json::Number::from_f64(f.value()) {
            return Ok(Json::Number(n));
        }
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Json::String(s.to_str()?.to_string()));
    }
    Ok(Json::String(format!("\u{0}unrepresentable:{}", obj.repr()?)))
}
