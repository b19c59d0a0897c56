//! Embeds the schema migrations: every `migrations/NNNN_name.sql`, in number order, becomes
//! one step of `db::MIGRATIONS`, so adding the next file is all a schema change takes. The
//! build fails if a number repeats or one is skipped (`service/src/migration_files.rs`).

#[path = "../service/src/migration_files.rs"]
mod migration_files;

fn main() {
    println!("cargo::rerun-if-changed=../service/src/migration_files.rs");
    migration_files::embed();
}
