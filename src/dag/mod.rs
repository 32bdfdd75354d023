//! The query DAG: which tables each query reads, checked against what
//! exists, in a deterministic run order. A cycle or an unknown table is an
//! error naming the file.

pub mod bundled;
pub mod query_file;

use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use datafusion::sql::parser::DFParser;
use datafusion::sql::resolve::resolve_table_references;

use crate::builtin::Builtin;
use crate::error::{Error, Result};
use query_file::{Origin, QueryFile};

/// What produces a node's table.
#[derive(Debug, Clone)]
pub enum NodeKind {
    Sql(QueryFile),
    /// Built in Rust from the config (e.g. conversion matches).
    Builtin(Arc<dyn Builtin>),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    /// Tables read: sources or other nodes, sorted.
    pub reads: Vec<String>,
}

impl Node {
    pub fn path(&self) -> &str {
        match &self.kind {
            NodeKind::Sql(q) => &q.path,
            NodeKind::Builtin(_) => "(builtin)",
        }
    }

    pub fn internal(&self) -> bool {
        match &self.kind {
            NodeKind::Sql(q) => q.internal,
            NodeKind::Builtin(_) => true,
        }
    }

    pub fn origin(&self) -> &'static str {
        match &self.kind {
            NodeKind::Sql(q) if q.origin == Origin::User => "user",
            NodeKind::Sql(_) => "bundled",
            NodeKind::Builtin(_) => "builtin",
        }
    }
}

/// The tables a SELECT reads (CTE names excluded), lowercased.
pub fn tables_read(sql: &str) -> std::result::Result<BTreeSet<String>, String> {
    let mut statements = DFParser::parse_sql(sql).map_err(|e| e.to_string())?;
    let statement = statements.pop_front().ok_or("empty query")?;
    let (refs, _ctes) = resolve_table_references(&statement, true).map_err(|e| e.to_string())?;
    Ok(refs
        .into_iter()
        .filter(|r| r.schema() != Some("information_schema"))
        .map(|r| r.table().to_string())
        .collect())
}

/// Build and order the DAG. `sources` are tables that exist before any
/// query runs; `table_functions` are names that may appear in FROM without
/// being tables.
pub fn plan(
    queries: Vec<QueryFile>,
    builtins: Vec<Arc<dyn Builtin>>,
    sources: &BTreeSet<String>,
    table_functions: &BTreeSet<String>,
) -> Result<Vec<Node>> {
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    for b in builtins {
        let node = Node {
            name: b.name().to_string(),
            reads: b.reads().iter().map(|r| r.to_string()).collect(),
            kind: NodeKind::Builtin(b),
        };
        nodes.insert(node.name.clone(), node);
    }
    for q in queries {
        let reads = tables_read(&q.sql).map_err(|m| Error::QueryFile {
            path: q.path.clone(),
            message: m,
        })?;
        let reads = reads
            .into_iter()
            .filter(|t| !table_functions.contains(t))
            .collect();
        // a user file with a builtin's name replaces the builtin
        nodes.insert(
            q.name.clone(),
            Node {
                name: q.name.clone(),
                kind: NodeKind::Sql(q),
                reads,
            },
        );
    }
    for node in nodes.values() {
        if sources.contains(&node.name) {
            return Err(Error::QueryFile {
                path: node.path().to_string(),
                message: format!(
                    "`{}` is an input or reference table and cannot be redefined",
                    node.name
                ),
            });
        }
        for table in &node.reads {
            if !sources.contains(table) && !nodes.contains_key(table) {
                return Err(Error::UnknownTable {
                    name: node.name.clone(),
                    path: node.path().to_string(),
                    table: table.clone(),
                });
            }
        }
    }
    order(nodes)
}

/// Kahn's algorithm, always taking the alphabetically first ready node, so
/// the order is the same on every run.
fn order(mut nodes: BTreeMap<String, Node>) -> Result<Vec<Node>> {
    let deps = |n: &Node, pending: &BTreeMap<String, Node>| -> usize {
        n.reads.iter().filter(|r| pending.contains_key(*r)).count()
    };
    let mut out = Vec::with_capacity(nodes.len());
    while !nodes.is_empty() {
        let ready = nodes
            .values()
            .find(|n| deps(n, &nodes) == 0)
            .map(|n| n.name.clone());
        match ready {
            Some(name) => out.extend(nodes.remove(&name)),
            None => {
                return Err(Error::Cycle {
                    cycle: find_cycle(&nodes),
                })
            }
        }
    }
    Ok(out)
}

/// Walk from the first pending node along pending dependencies until a
/// node repeats; return that loop, closed (a -> b -> a).
fn find_cycle(nodes: &BTreeMap<String, Node>) -> Vec<String> {
    let mut path: Vec<String> = Vec::new();
    let mut current = nodes.keys().next().cloned().unwrap_or_default();
    loop {
        if let Some(pos) = path.iter().position(|p| *p == current) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(current);
            return cycle;
        }
        path.push(current.clone());
        let next = nodes
            .get(&current)
            .and_then(|n| n.reads.iter().find(|r| nodes.contains_key(*r)).cloned());
        match next {
            Some(n) => current = n,
            None => return path,
        }
    }
}

/// Keep only the nodes named in `select` and everything they read.
pub fn select(nodes: Vec<Node>, select: &[String]) -> Result<Vec<Node>> {
    if select.is_empty() {
        return Ok(nodes);
    }
    let by_name: BTreeMap<&str, &Node> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut keep = BTreeSet::new();
    let mut stack: Vec<String> = Vec::new();
    for s in select {
        if !by_name.contains_key(s.as_str()) {
            return Err(Error::UnknownSelect { name: s.clone() });
        }
        stack.push(s.clone());
    }
    while let Some(name) = stack.pop() {
        if let Some(node) = by_name.get(name.as_str()) {
            if keep.insert(name.clone()) {
                stack.extend(node.reads.iter().cloned());
            }
        }
    }
    Ok(nodes
        .into_iter()
        .filter(|n| keep.contains(&n.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::query_file::parse;
    use super::*;

    fn q(name: &str, sql: &str) -> QueryFile {
        parse(
            &format!("{name}.sql"),
            &format!("q/{name}.sql"),
            sql,
            Origin::User,
        )
        .unwrap()
    }

    fn sources() -> BTreeSet<String> {
        ["events".to_string()].into()
    }

    #[test]
    fn reads_exclude_ctes_and_order_is_dependency_then_name() {
        let nodes = plan(
            vec![
                q("c", "SELECT * FROM b JOIN a USING (x)"),
                q("b", "WITH t AS (SELECT * FROM a) SELECT * FROM t"),
                q("a", "SELECT * FROM events"),
                q("aa", "SELECT * FROM events"),
            ],
            vec![],
            &sources(),
            &BTreeSet::new(),
        )
        .unwrap();
        let names: Vec<_> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "aa", "b", "c"]);
        assert_eq!(nodes[2].reads, ["a"]);
    }

    #[test]
    fn cycle_is_named_in_full() {
        let err = plan(
            vec![
                q("x", "SELECT * FROM y"),
                q("y", "SELECT * FROM z"),
                q("z", "SELECT * FROM x"),
            ],
            vec![],
            &sources(),
            &BTreeSet::new(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "query dependency cycle: x -> y -> z -> x");
    }

    #[test]
    fn unknown_table_names_the_file() {
        let err = plan(
            vec![q("x", "SELECT * FROM nope")],
            vec![],
            &sources(),
            &BTreeSet::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("q/x.sql") && err.contains("nope"), "{err}");
    }

    #[test]
    fn select_keeps_ancestors_only() {
        let nodes = plan(
            vec![
                q("a", "SELECT * FROM events"),
                q("b", "SELECT * FROM a"),
                q("c", "SELECT * FROM events"),
            ],
            vec![],
            &sources(),
            &BTreeSet::new(),
        )
        .unwrap();
        let kept = select(nodes, &["b".to_string()]).unwrap();
        let names: Vec<_> = kept.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }
}
