//! Where a canonical column comes from in a source, as `[input.columns]`
//! and the presets write it:
//!
//! - a column name (`visitor_id`), matched exactly, then ignoring case;
//! - a path into nested data: `device.category` (a field of a record),
//!   `items[1].item_id` (a field of the first element of a list);
//! - `param:<key>`: a GA4 event parameter (see `ga4_param`);
//! - `'text'`: a constant;
//! - several of these separated by `|`: the first that is not NULL, among
//!   those the source has (`collected_traffic_source.manual_source |
//!   param:source | traffic_source.source`). Alternatives the source does
//!   not have are skipped, so one mapping serves exports of different
//!   vintages (GA4 added `collected_traffic_source` in 2023) and tables of
//!   one export with different columns (Segment's `tracks` and `pages`).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::logical_expr::{cast, lit, Expr};
use datafusion::prelude::ident;

use crate::error::{Error, Result};

/// The expression and type of `spec` in `schema`, or `None` when the source
/// has none of its alternatives. `source` names the input in errors.
pub fn resolve(schema: &DFSchema, source: &str, spec: &str) -> Result<Option<(Expr, DataType)>> {
    // a column whose name is the whole spec wins (a name with a `.` or `|`)
    if let Some((name, dt)) = find_field(schema, source, spec)? {
        return Ok(Some((ident(name), dt)));
    }
    let mut found = Vec::new();
    for alternative in spec.split('|').map(str::trim) {
        if let Some(hit) = one(schema, source, alternative)? {
            found.push(hit);
        }
    }
    Ok(match found.len() {
        0 => None,
        1 => found.pop(),
        _ => {
            // COALESCE needs one type: the shared one, else text (which the
            // mapping parses into times and numbers)
            let same = found.iter().all(|(_, dt)| *dt == found[0].1);
            let dt = if same {
                found[0].1.clone()
            } else {
                DataType::Utf8
            };
            let exprs = found
                .into_iter()
                .map(|(e, t)| if t == dt { e } else { cast(e, dt.clone()) })
                .collect();
            Some((datafusion::functions::core::expr_fn::coalesce(exprs), dt))
        }
    })
}

/// One alternative: a constant, a GA4 parameter, a column or a path.
fn one(schema: &DFSchema, source: &str, spec: &str) -> Result<Option<(Expr, DataType)>> {
    if let Some(text) = spec.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Ok(Some((lit(text.to_string()), DataType::Utf8)));
    }
    if let Some(key) = spec.strip_prefix("param:") {
        let Some((params, dt)) = find_field(schema, source, "event_params")? else {
            return Ok(None);
        };
        let udf = std::sync::Arc::new(crate::functions::ga4::ga4_param_udf());
        // checks the column's type as the plan is built
        udf.return_type(&[dt]).map_err(|e| Error::InputFile {
            path: source.into(),
            message: format!("`{spec}`: {e}"),
        })?;
        let call = Expr::ScalarFunction(datafusion::logical_expr::expr::ScalarFunction::new_udf(
            udf,
            vec![ident(params), lit(key.trim().to_string())],
        ));
        return Ok(Some((call, DataType::Utf8)));
    }
    if let Some(hit) = find_field(schema, source, spec)? {
        return Ok(Some((ident(hit.0), hit.1)));
    }
    path(schema, source, spec)
}

/// `a.b[1].c`: a column, then fields of records and elements of lists.
fn path(schema: &DFSchema, source: &str, spec: &str) -> Result<Option<(Expr, DataType)>> {
    let mut steps = spec.split('.');
    let Some(first) = steps.next() else {
        return Ok(None);
    };
    let (name, index) = indexed(first);
    let Some((column, mut dt)) = find_field(schema, source, name)? else {
        return Ok(None);
    };
    let mut expr = ident(column);
    if let Some(i) = index {
        let Some(next) = element(expr, &dt, i) else {
            return Ok(None);
        };
        (expr, dt) = next;
    }
    for step in steps {
        let (name, index) = indexed(step);
        let DataType::Struct(fields) = &dt else {
            return Ok(None);
        };
        let field = fields
            .iter()
            .find(|f| f.name() == name)
            .or_else(|| fields.iter().find(|f| f.name().eq_ignore_ascii_case(name)));
        let Some(field) = field else {
            return Ok(None);
        };
        expr = datafusion::functions::core::expr_fn::get_field(expr, field.name().as_str());
        dt = field.data_type().clone();
        if let Some(i) = index {
            let Some(next) = element(expr, &dt, i) else {
                return Ok(None);
            };
            (expr, dt) = next;
        }
    }
    Ok(Some((expr, dt)))
}

/// `items[1]` -> (`items`, Some(1)); `items` -> (`items`, None).
fn indexed(step: &str) -> (&str, Option<i64>) {
    match step.strip_suffix(']').and_then(|s| s.split_once('[')) {
        Some((name, i)) => match i.trim().parse() {
            Ok(i) => (name, Some(i)),
            Err(_) => (step, None),
        },
        None => (step, None),
    }
}

/// Element `i` (1-based) of a list.
fn element(list: Expr, dt: &DataType, i: i64) -> Option<(Expr, DataType)> {
    let item = match dt {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            f.data_type().clone()
        }
        _ => return None,
    };
    Some((
        datafusion::functions_nested::expr_fn::array_element(list, lit(i)),
        item,
    ))
}

/// Find a column by exact name, else the one column whose name matches
/// case-insensitively; two such columns (`User_Id`, `USER_ID`) are an
/// error naming both.
pub fn find_field(
    schema: &DFSchema,
    source: &str,
    name: &str,
) -> Result<Option<(String, DataType)>> {
    let fields = schema.fields();
    let found = |f: &datafusion::arrow::datatypes::FieldRef| {
        Some((f.name().clone(), f.data_type().clone()))
    };
    if let Some(f) = fields.iter().find(|f| f.name() == name) {
        return Ok(found(f));
    }
    let matches: Vec<_> = fields
        .iter()
        .filter(|f| f.name().eq_ignore_ascii_case(name))
        .collect();
    match matches.as_slice() {
        [] => Ok(None),
        [f] => Ok(found(f)),
        many => Err(Error::AmbiguousColumn {
            path: source.into(),
            column: name.to_string(),
            matches: many.iter().map(|f| f.name().clone()).collect(),
        }),
    }
}
