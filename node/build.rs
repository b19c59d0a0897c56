//! Embeds the schema migrations: every `migrations/NNNN_name.sql`, in number order, becomes
//! one step of `db::MIGRATIONS`, so adding the next file is all a schema change takes. The
//! build fails if a number repeats or one is skipped (`src/db/migration_files.rs`).

#[path = "src/db/migration_files.rs"]
mod migration_files;

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    println!("cargo::rerun-if-changed={}", dir.display());
    println!("cargo::rerun-if-changed=src/db/migration_files.rs");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the node/migrations folder")
        .map(|entry| {
            let name = entry.expect("a node/migrations entry").file_name();
            name.into_string().expect("a UTF-8 file name")
        })
        .collect();
    let files = migration_files::ordered(&names).unwrap_or_else(|problem| panic!("{problem}"));
    let mut code = String::from(
        "/// Every migration step, oldest first: the files of `node/migrations/` (see `build.rs`).\n\
         pub const MIGRATIONS: pico_service::db::Migrations = &[\n",
    );
    for name in &files {
        writeln!(
            code,
            "    include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/migrations/{name}\")),"
        )
        .expect("writing to a String");
    }
    code.push_str("];\n\n/// The file of each step, in the same order.\npub const MIGRATION_FILES: &[&str] = &[\n");
    for name in &files {
        writeln!(code, "    {name:?},").expect("writing to a String");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(out, code).expect("writing migrations.rs");
}
