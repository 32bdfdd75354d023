//! `[params]`: extra named SQL parameters for the user's own queries.

use std::collections::BTreeMap;

use crate::config::units::is_identifier;
use crate::error::{Error, Result};

/// The value of one user parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// Validate the names and value types of `[params]`.
pub fn validate(table: &BTreeMap<String, toml::Value>) -> Result<Vec<(String, ParamValue)>> {
    table
        .iter()
        .map(|(k, v)| {
            let key = format!("params.{k}");
            if !is_identifier(k) {
                return Err(Error::setting(key, "use lowercase letters, digits and _"));
            }
            let value = match v {
                toml::Value::String(s) => ParamValue::Text(s.clone()),
                toml::Value::Integer(i) => ParamValue::Int(*i),
                toml::Value::Float(f) => ParamValue::Float(*f),
                toml::Value::Boolean(b) => ParamValue::Bool(*b),
                _ => return Err(Error::setting(key, "must be a string, number or boolean")),
            };
            Ok((k.clone(), value))
        })
        .collect()
}
