//! Compiles the bundled `queries/*.sql` into the binary, so an installed
//! microconv needs no source tree.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=queries");
    // Read at run time: `env!` would bake in the directory of whichever
    // checkout first compiled this script, and a target directory shared by
    // several checkouts would then bundle that checkout's queries.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("queries");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("queries/ directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    let mut code = String::from("/// (file name, SQL text) of every bundled query.\npub static BUNDLED: &[(&str, &str)] = &[\n");
    for n in &names {
        println!("cargo:rerun-if-changed=queries/{n}");
        let path = dir.join(n);
        writeln!(
            code,
            "    ({n:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("bundled_queries.rs");
    std::fs::write(out, code).unwrap();
}
