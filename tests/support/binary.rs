//! The real binary, run in a directory with none of the caller's
//! `MICROCONV_*` settings, a temp project to run it in, and what it
//! publishes (the run manifest).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::fixtures::{fixture_rows, write_events, CONFIG};

/// The variables the binary reads settings from: a developer's shell must
/// not change what a test sees. (`MICROCONV_LOG` passes through.)
const SETTINGS_ENV: [&str; 8] = [
    "MICROCONV_LOG_FORMAT",
    "MICROCONV_CONFIG",
    "MICROCONV_OUT",
    "MICROCONV_OUTPUT_FORMAT",
    "MICROCONV_WORK_DIR",
    "MICROCONV_MEMORY_LIMIT",
    "MICROCONV_SPILL_DIR",
    "MICROCONV_ENGINE",
];

/// Run `microconv args...` in `dir`.
pub fn microconv(dir: &Path, args: &[&str]) -> Output {
    microconv_env(dir, args, &[])
}

/// Run `microconv args...` in `dir` with the variables `env` set.
pub fn microconv_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_microconv"));
    command.args(args).current_dir(dir);
    for var in SETTINGS_ENV {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    command.output().expect("run the microconv binary")
}

/// Fail with the exit status and both outputs unless the run succeeded.
#[track_caller]
pub fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "microconv failed ({})\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The manifest of the latest run published under `out`.
pub fn manifest(out: &Path) -> serde_json::Value {
    let path = out.join("_manifests/latest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// The names of the tables a manifest lists, in its order.
pub fn table_names(m: &serde_json::Value) -> Vec<String> {
    m["tables"]
        .as_array()
        .expect("a manifest lists its tables")
        .iter()
        .map(|t| t["name"].as_str().expect("a table has a name").to_string())
        .collect()
}

/// A table's row count in a manifest; `None` when it was not published.
pub fn table_rows(m: &serde_json::Value, name: &str) -> Option<u64> {
    m["tables"].as_array()?.iter().find(|t| t["name"] == name)?["rows"].as_u64()
}

/// A temp project: `microconv.toml` (`CONFIG`), `events/part-0.parquet`
/// (`fixture_rows`), an empty `my_queries/`; outputs go to `out/`.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("microconv.toml"), CONFIG).unwrap();
        write_events(&dir.path().join("events/part-0.parquet"), &fixture_rows());
        std::fs::create_dir_all(dir.path().join("my_queries")).unwrap();
        Project { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Run the binary in the project directory.
    pub fn run(&self, args: &[&str]) -> Output {
        microconv(self.dir.path(), args)
    }

    /// The manifest of the latest run (`out/_manifests/latest.json`).
    pub fn manifest(&self) -> serde_json::Value {
        manifest(&self.path("out"))
    }

    /// Every file under `out/` with its bytes (the manifests and lock excluded).
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        walk(&self.path("out"), &mut files);
        files.retain(|(p, _)| !p.to_string_lossy().contains("_manifests"));
        files.sort();
        files
    }
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
}

/// Run a Python check with the output folder as argv[1] when pyarrow is
/// installed (CI installs it); print why it was skipped otherwise.
pub fn python_check(out: &Path, script: &str) {
    let probe = Command::new("python3")
        .args(["-c", "import pyarrow"])
        .output();
    if !probe.map(|o| o.status.success()).unwrap_or(false) {
        eprintln!("pyarrow not installed: independent pyarrow check skipped");
        return;
    }
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pyarrow check failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
