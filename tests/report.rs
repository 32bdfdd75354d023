//! The HTML report, progress and log output, and the types of published
//! columns: the fixture project for what can be worked out by hand, the
//! bundled sample run for the report in a real browser (headless Chromium)
//! and for independent readers of every published table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::tables::{collect, f64_at, i64_at, published, text};
use crate::support::{assert_ok, manifest, microconv, python_check, stderr, stdout, Project};

const AS_OF: &str = "2026-03-02";

fn report_file(out: &Path, as_of: &str) -> PathBuf {
    out.join(format!("report/as_of={as_of}/index.html"))
}

/// The JSON the page draws from.
fn page_data(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"report-data\">";
    let start = html.find(open).expect("the data element") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("the page's data is JSON")
}

#[test]
fn a_run_writes_a_self_contained_report_that_can_be_rebuilt() {
    let p = Project::new();
    let o = p.run(&["run"]);
    assert_ok(&o);
    let path = report_file(&p.path("out"), AS_OF);
    assert!(
        stdout(&o).contains(&format!("report: out/report/as_of={AS_OF}/index.html")),
        "{}",
        stdout(&o)
    );
    let html = std::fs::read_to_string(&path).unwrap();
    // nothing loaded from elsewhere: no external script, style or image
    for attr in ["src=\"http", "href=\"http", "src='http", "@import", "<link"] {
        assert!(!html.contains(attr), "the report refers to {attr}...");
    }
    // the data the page draws: the fixture's 5 sessions (worked out by
    // hand in tests/support/fixtures.rs) are in the daily KPI rows
    let data = page_data(&html);
    let sessions: i64 = data["sections"]["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["channel"] == "(all)")
        .map(|r| r["sessions"].as_i64().unwrap())
        .sum();
    assert_eq!(sessions, 5);
    assert_eq!(data["run"]["input_rows"]["rows"], 9);
    // rebuilt from the published tables alone: the same bytes
    std::fs::remove_file(&path).unwrap();
    let r = p.run(&["report", "--as-of", AS_OF]);
    assert_ok(&r);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), html);
    // the latest run's date by default
    std::fs::remove_file(&path).unwrap();
    assert_ok(&p.run(&["report"]));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), html);
}

#[test]
fn no_report_skips_it_and_a_date_without_outputs_is_an_error() {
    let p = Project::new();
    assert_ok(&p.run(&["run", "--no-report"]));
    assert!(!report_file(&p.path("out"), AS_OF).exists());
    let o = p.run(&["report", "--as-of", "2025-01-01"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no table is published for as-of 2025-01-01"),
        "{}",
        stderr(&o)
    );
    assert!(!report_file(&p.path("out"), "2025-01-01").exists());
}

#[test]
fn without_a_terminal_each_finished_table_is_a_line() {
    let p = Project::new();
    let o = p.run(&["run"]);
    assert_ok(&o);
    let err = stderr(&o);
    // the fixture has 8 valid events (9 rows, one without a user) and 5
    // sessions (worked out in tests/support/fixtures.rs)
    assert!(err.contains("input: 8 events, 1 rejected"), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("] sessions: "))
        .unwrap_or_else(|| panic!("no line for sessions in\n{err}"));
    assert!(
        line.starts_with('[') && line.contains("sessions: 5 rows in "),
        "{line}"
    );
    assert!(err.lines().any(|l| l == "publishing"), "{err}");
}

#[test]
fn json_logs_carry_run_id_table_rows_seconds_and_memory() {
    let p = Project::new();
    let o = p.run(&["run", "--log-format", "json"]);
    assert_ok(&o);
    let records: Vec<serde_json::Value> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let run_id = p.manifest()["run_id"].as_str().unwrap().to_string();
    let sessions = records
        .iter()
        .find(|r| r["fields"]["table"] == "sessions" && r["fields"]["message"] == "table done")
        .expect("a record for sessions");
    let f = &sessions["fields"];
    assert_eq!(f["run_id"], run_id.as_str());
    assert_eq!(f["rows"], 5);
    assert!(f["seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(sessions["level"], "INFO");
    let input = records
        .iter()
        .find(|r| r["fields"]["message"] == "input done")
        .expect("a record for the input");
    assert_eq!(input["fields"]["rows"], 8);
    assert_eq!(input["fields"]["rejected"], 1);
    // the env variable chooses it too
    let mut c = Command::new(env!("CARGO_BIN_EXE_microconv"));
    let o = c
        .args(["run"])
        .current_dir(p.path(""))
        .env("MICROCONV_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert_ok(&o);
    assert!(
        stderr(&o).lines().all(|l| l.starts_with('{')),
        "{}",
        stderr(&o)
    );
}

// ---- the bundled sample run ---------------------------------------------

/// The bundled job run once on `data/sample` (the README's quick start),
/// shared by the tests below; its output folder.
fn sample_out() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-sample");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let config = root.join("microconv.toml");
        let o = microconv(
            &dir,
            &[
                "run",
                "--config",
                config.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_ok(&o);
        out
    })
}

#[test]
#[ignore = "slow: the whole job on the sample, about 30 s in a debug build"]
fn published_columns_are_types_every_bi_reader_takes() {
    let out = sample_out();
    let m = manifest(out);
    let as_of = m["as_of"].as_str().unwrap();
    let dirs: Vec<String> = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| out.join(t["path"].as_str().unwrap()).display().to_string())
        .collect();
    assert!(dirs.len() > 20, "{dirs:?}");
    assert!(dirs.iter().all(|d| d.ends_with(&format!("as_of={as_of}"))));
    python_check(
        out,
        &format!(
            "import pyarrow as pa, pyarrow.dataset as ds, sys\n\
             dirs = {dirs:?}\n\
             def bad(t):\n\
             \x20   if pa.types.is_unsigned_integer(t) or pa.types.is_dictionary(t):\n\
             \x20       return True\n\
             \x20   if pa.types.is_timestamp(t) and t.unit == 'ns':\n\
             \x20       return True\n\
             \x20   if pa.types.is_list(t) or pa.types.is_large_list(t):\n\
             \x20       return bad(t.value_type)\n\
             \x20   if pa.types.is_struct(t):\n\
             \x20       return any(bad(f.type) for f in t)\n\
             \x20   return False\n\
             found = [(d, f.name, str(f.type)) for d in dirs for f in ds.dataset(d, format='parquet').schema if bad(f.type)]\n\
             assert not found, found\n\
             try:\n\
             \x20   import duckdb\n\
             except ImportError:\n\
             \x20   print('duckdb not installed: DuckDB check skipped', file=sys.stderr); sys.exit(0)\n\
             con = duckdb.connect()\n\
             found = []\n\
             for d in dirs:\n\
             \x20   for name, typ, *_ in con.execute(f\"DESCRIBE SELECT * FROM read_parquet('{{d}}/*.parquet')\").fetchall():\n\
             \x20       if typ.startswith('U') or 'TIMESTAMP_NS' in typ or typ.startswith('ENUM'):\n\
             \x20           found.append((d, name, typ))\n\
             assert not found, found\n"
        ),
    );
}

/// Chromium, when installed; `None` (and the test skipped) otherwise,
/// unless `MICROCONV_REQUIRE_BROWSER` is set (CI installs it and sets it).
fn chromium() -> Option<PathBuf> {
    let found = [
        "/usr/lib/chromium/chromium",
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("MICROCONV_REQUIRE_BROWSER").is_none(),
            "MICROCONV_REQUIRE_BROWSER is set but Chromium is not installed"
        );
        eprintln!("chromium not installed: the browser check of the report skipped");
    }
    found
}

/// The page's DOM after its scripts ran, Chromium's console lines, and a
/// screenshot saved to `png`.
fn render(browser: &Path, page: &Path, png: &Path) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--virtual-time-budget=5000",
            "--window-size=1280,6000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("start chromium");
    let console = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.contains(":INFO:CONSOLE"))
        .map(str::to_owned)
        .collect();
    (String::from_utf8_lossy(&o.stdout).into_owned(), console)
}

/// The opening tag of the element with `id`.
fn tag_with_id<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!(" id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id}"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    &dom[start..=end]
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// The raw value shown in table `table`, row `key`, column `col`.
fn shown(dom: &str, table: &str, key: &str, col: &str) -> String {
    let t = dom
        .find(&format!("data-numbers=\"{table}\""))
        .unwrap_or_else(|| panic!("no numbers table {table}"));
    let row_key = format!("data-key=\"{key}\"");
    let r = t + dom[t..]
        .find(&row_key)
        .unwrap_or_else(|| panic!("no row {key} in {table}"));
    let row = &dom[r..r + dom[r..].find("</tr>").unwrap()];
    let cell = format!("data-col=\"{col}\" data-value=\"");
    let c = row
        .find(&cell)
        .unwrap_or_else(|| panic!("no {col} in {table}/{key}"))
        + cell.len();
    row[c..c + row[c..].find('"').unwrap()].to_string()
}

/// The charts of a section (`data-rendered` counts of the elements drawn).
fn drawn(dom: &str, section: &str) -> Vec<usize> {
    let start = dom.find(&format!("<section id=\"{section}\"")).unwrap();
    let end = start + dom[start..].find("</section>").unwrap();
    dom[start..end]
        .match_indices("data-rendered=\"")
        .map(|(i, m)| {
            let v = &dom[start + i + m.len()..];
            v[..v.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

#[tokio::test]
#[ignore = "slow: the whole job on the sample, then Chromium"]
async fn the_report_renders_in_a_browser_with_the_published_numbers() {
    let Some(browser) = chromium() else {
        return;
    };
    let out = sample_out();
    let m = manifest(out);
    let as_of = m["as_of"].as_str().unwrap();
    let page = report_file(out, as_of);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("report.png");
    let (dom, console) = render(&browser, &page, &png);
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );
    assert!(
        !dom.contains("id=\"js-errors\""),
        "script errors on the page"
    );
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "no screenshot"
    );
    eprintln!("screenshot: {}", png.display());

    // every section drew its charts: axes alone are about 10 elements, a
    // chart with its data well over 15
    for section in [
        "kpis",
        "funnels",
        "lift",
        "paths",
        "attribution",
        "clv",
        "cohorts",
        "experiments",
        "run",
    ] {
        let tag = tag_with_id(&dom, section);
        assert_eq!(attr(tag, "data-state"), Some("ok"), "{section}: {tag}");
        let charts = drawn(&dom, section);
        assert!(
            !charts.is_empty() && charts.iter().all(|&n| n > 15),
            "{section}: {charts:?}"
        );
    }

    // numbers shown = numbers published
    let ctx = published(
        out,
        &[
            "daily_kpis",
            "funnel_steps",
            "micro_conversion_lift",
            "markov_attribution",
        ],
    )
    .await;
    let b = collect(
        &ctx,
        "SELECT SUM(sessions) AS sessions FROM daily_kpis WHERE channel = '(all)'",
    )
    .await;
    assert_eq!(
        shown(&dom, "kpis_channels", "(all)", "sessions"),
        i64_at(&b[0], "sessions", 0).to_string()
    );
    for b in collect(
        &ctx,
        "SELECT funnel, CAST(step AS BIGINT) AS step, users FROM funnel_steps WHERE breakdown = '(all)'",
    )
    .await
    {
        for i in 0..b.num_rows() {
            let key = format!("{}|{}", text(&b, "funnel", i), i64_at(&b, "step", i));
            assert_eq!(
                shown(&dom, "funnel_steps", &key, "users"),
                i64_at(&b, "users", i).to_string(),
                "{key}"
            );
        }
    }
    let b = collect(
        &ctx,
        "SELECT micro_conversion, macro_conversion, risk_ratio, q_value FROM micro_conversion_lift WHERE priority = 1",
    )
    .await;
    assert!(
        b[0].num_rows() >= 1,
        "the sample has a top-priority micro conversion"
    );
    let key = format!(
        "{}|{}",
        text(&b[0], "micro_conversion", 0),
        text(&b[0], "macro_conversion", 0)
    );
    for col in ["risk_ratio", "q_value"] {
        let v: f64 = shown(&dom, "lift", &key, col).parse().unwrap();
        assert_eq!(Some(v), f64_at(&b[0], col, 0), "{key} {col}");
    }
    let b = collect(
        &ctx,
        "SELECT channel, removal_effect FROM markov_attribution",
    )
    .await;
    for i in 0..b[0].num_rows() {
        let channel = text(&b[0], "channel", i);
        let v: f64 = shown(&dom, "markov_attribution", &channel, "removal_effect")
            .parse()
            .unwrap();
        assert_eq!(Some(v), f64_at(&b[0], "removal_effect", i), "{channel}");
    }
    assert_eq!(
        shown(&dom, "run_tables", "input", "rows"),
        m["input_rows"]["rows"].to_string()
    );
}

#[test]
fn on_a_terminal_the_run_draws_a_progress_bar_instead_of_lines() {
    // `script` (util-linux) gives the binary a pseudo-terminal
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("`script` not installed: the terminal check skipped");
        return;
    }
    let p = Project::new();
    let line = format!("{} run", env!("CARGO_BIN_EXE_microconv"));
    let o = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(p.path(""))
        .env_remove("MICROCONV_LOG_FORMAT")
        .output()
        .unwrap();
    assert_ok(&o);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    // the bar's own line for the input stage, and none of the plain lines
    assert!(all.contains("input: 8 events, 1 rejected in"), "{all}");
    assert!(!all.contains("] sessions: 5 rows"), "{all}");
}
