//! Migrations as ordered `.sql` files, for node and hub: the rule for their names
//! (`NNNN_name.sql`, numbered 1, 2, 3… with no repeat and no gap, since step `N` takes the
//! schema from `user_version = N - 1` to `N`) and the code that embeds them. Each service's
//! `build.rs` includes this file by path (a build script cannot depend on this crate) and
//! calls [`embed`]; the tests call [`ordered`].

use std::fmt::Write as _;
use std::path::Path;

/// Orders the names of a migration folder's `.sql` files by number, or says what is wrong.
/// Other files (a README) are left out.
pub fn ordered(names: &[String]) -> Result<Vec<String>, String> {
    let mut steps: Vec<(u32, &String)> = Vec::new();
    for name in names.iter().filter(|name| name.ends_with(".sql")) {
        let number = name
            .split_once('_')
            .filter(|(digits, _)| digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|(digits, _)| digits.parse::<u32>().ok())
            .ok_or_else(|| format!("migration {name}: the name must be NNNN_name.sql"))?;
        steps.push((number, name));
    }
    steps.sort();
    for (index, (number, name)) in steps.iter().enumerate() {
        let expected = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if *number != expected {
            return Err(format!(
                "migration {name}: expected number {expected:04} (numbers start at 0001 and never repeat or skip)"
            ));
        }
    }
    Ok(steps.into_iter().map(|(_, name)| name.clone()).collect())
}

/// Writes `$OUT_DIR/migrations.rs` for the crate whose `build.rs` calls it: `MIGRATIONS`, every
/// `migrations/NNNN_*.sql` of the crate in number order, and `MIGRATION_FILES`, their names.
/// Panics (failing the build) if a number repeats or one is skipped.
pub fn embed() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("migrations");
    println!("cargo::rerun-if-changed={}", dir.display());
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| {
            let name = entry.expect("a migrations folder entry").file_name();
            name.into_string().expect("a UTF-8 file name")
        })
        .collect();
    let files = ordered(&names).unwrap_or_else(|problem| panic!("{problem}"));
    let mut code = String::from(
        "/// Every migration step, oldest first: the files of `migrations/` (see `build.rs`).\n\
         pub const MIGRATIONS: pico_service::db::Migrations = &[\n",
    );
    for name in &files {
        writeln!(
            code,
            "    include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/migrations/{name}\")),"
        )
        .expect("writing to a String");
    }
    code.push_str(
        "];\n\n/// The file of each step, in the same order.\npub const MIGRATION_FILES: &[&str] = &[\n",
    );
    for name in &files {
        writeln!(code, "    {name:?},").expect("writing to a String");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(out, code).expect("writing migrations.rs");
}
