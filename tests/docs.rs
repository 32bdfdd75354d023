//! The documentation matches what it describes: `docs/tables.md` the real
//! schemas of a run (same tables, same columns in the same order, same
//! types) and, for each table, the key and query file of its bundled query;
//! and the README's test command the one CI runs.

use std::collections::BTreeMap;

use crate::support::{assert_ok, Project};

/// table -> [(column, type)] parsed from the markdown.
fn documented() -> BTreeMap<String, Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tables.md")).unwrap();
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            current = Some(name.trim().to_string());
            out.entry(name.trim().to_string()).or_default();
        } else if let (Some(t), Some(row)) = (&current, line.strip_prefix("| ")) {
            let cells: Vec<&str> = row.split(" | ").map(str::trim).collect();
            if cells.len() >= 2 && cells[0] != "column" && !cells[0].starts_with("---") {
                out.get_mut(t)
                    .unwrap()
                    .push((cells[0].to_string(), cells[1].to_string()));
            }
        }
    }
    out
}

#[test]
fn docs_match_the_output_schemas() {
    let p = Project::new();
    assert_ok(&p.run(&["run"]));
    let m = p.manifest();
    let docs = documented();
    let mut real: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for t in m["tables"].as_array().unwrap() {
        let cols = t["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["type"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        real.insert(t["name"].as_str().unwrap().to_string(), cols);
    }
    for (table, cols) in &real {
        let doc = docs
            .get(table)
            .unwrap_or_else(|| panic!("table `{table}` is not documented in docs/tables.md"));
        assert_eq!(
            doc, cols,
            "docs/tables.md disagrees with the schema of `{table}`"
        );
    }
    for table in docs.keys() {
        assert!(
            real.contains_key(table),
            "docs/tables.md documents `{table}`, which the run does not write"
        );
    }
}

/// table -> (key columns, query file) from the `Key: ... Query: ...` lines.
fn documented_keys(text: &str) -> BTreeMap<String, (Vec<String>, String)> {
    let ticked = |s: &str| -> Vec<String> {
        s.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            current = Some(name.trim().to_string());
        } else if let (Some(t), Some(rest)) = (&current, line.strip_prefix("Key: ")) {
            let (key, query) = rest
                .split_once(" Query: ")
                .unwrap_or_else(|| panic!("`{t}`: a Key line ends with ` Query: `<file>``"));
            // a note in parentheses after the columns may name them again
            let columns = ticked(key.split(" (").next().unwrap_or(key));
            let file = ticked(query).into_iter().next().unwrap_or_default();
            out.insert(t.clone(), (columns, file));
        }
    }
    out
}

#[test]
fn documented_keys_and_query_files_are_the_bundled_queries() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tables.md")).unwrap();
    let mut documented = documented_keys(&text);
    let queries = microconv::dag::query_file::load(&[] as &[&std::path::Path]).unwrap();
    for q in queries.iter().filter(|q| !q.internal) {
        let file = q.path.trim_end_matches(" (bundled)").to_string();
        assert_eq!(
            documented.remove(&q.name),
            Some((q.key.clone(), file)),
            "docs/tables.md: the Key line of `{}` disagrees with {}",
            q.name,
            q.path
        );
    }
    assert!(
        documented.is_empty(),
        "docs/tables.md has Key lines for tables no bundled query publishes: {:?}",
        documented.keys()
    );
}

/// The README's Quick start runs the tests the way CI does.
#[test]
fn readme_test_command_is_what_ci_runs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let ci: Vec<&str> = ci.lines().filter(|l| l.starts_with("cargo test")).collect();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let quick_start = readme
        .split("\n## ")
        .find(|s| s.starts_with("Quick start"))
        .expect("README has a Quick start");
    let readme: Vec<&str> = quick_start
        .lines()
        .filter(|l| l.starts_with("cargo test"))
        .map(|l| l.split(" #").next().unwrap().trim_end())
        .collect();
    assert_eq!(ci.len(), 1, ".ci/run runs one test command: {ci:?}");
    assert_eq!(readme, ci, "README Quick start vs .ci/run");
}

#[test]
fn readme_preset_table_is_the_presets_mapping() {
    use microconv::config::sections::presets::Preset;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let header = "| canonical | `ga4` | `segment` | `snowplow` |";
    let start = readme.find(header).expect("the preset table");
    let presets = [Preset::Ga4, Preset::Segment, Preset::Snowplow];
    let mut rows = 0;
    for line in readme[start..].lines().skip(2) {
        let Some(row) = line.strip_prefix("| ") else {
            break;
        };
        let cells: Vec<String> = row
            .replace("\\|", "\u{1}")
            .split(" | ")
            .map(|c| c.trim().trim_end_matches(" |").replace('\u{1}', "|"))
            .collect();
        let canonical = cells[0].as_str();
        for (preset, cell) in presets.iter().zip(&cells[1..]) {
            let documented = cell.trim_end_matches('|').trim().trim_matches('`');
            let expected = preset.source_of(canonical).unwrap_or("—");
            assert_eq!(documented, expected, "{preset:?} {canonical}");
        }
        rows += 1;
    }
    // every canonical column a preset maps is in the table
    for preset in presets {
        for (canonical, _) in preset.mapping() {
            assert!(
                readme[start..].contains(&format!("| {canonical} |")),
                "{canonical}"
            );
        }
    }
    assert!(rows >= 14, "{rows}");
}
