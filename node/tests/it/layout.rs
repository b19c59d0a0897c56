//! Rules of the node's layout that the compiler does not check: SQL lives only in db files
//! (a module's `db.rs` or `db/` folder, or the shared `src/db/`), and migrations are numbered
//! 1, 2, 3… with no repeat and no gap.

use std::path::{Path, PathBuf};

/// Calls that reach SQLite, and SQL keywords opening a string literal.
const SQL_MARKERS: &[&str] = &[
    ".prepare(",
    ".prepare_cached(",
    ".execute(",
    ".execute_batch(",
    ".query_row(",
    ".query_map(",
    ".pragma_update(",
    ".pragma_query_value(",
    "\"SELECT ",
    "\"INSERT ",
    "\"UPDATE ",
    "\"DELETE ",
    "\"CREATE ",
    "\"DROP ",
    "\"ALTER ",
    "\"PRAGMA ",
    "\"WITH ",
];

fn is_db_file(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == "db.rs")
        || path.components().any(|part| part.as_os_str() == "db")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The lines of `text` before its test module (tests may set up rows with SQL of their own).
fn production_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, line)| line.trim() != "#[cfg(test)]")
        .map(|(index, line)| (index + 1, line))
}

fn sql_outside_db_files(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for path in files {
        let relative = path.strip_prefix(src).unwrap();
        if is_db_file(relative) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (number, line) in production_lines(&text) {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if let Some(marker) = SQL_MARKERS.iter().find(|marker| line.contains(*marker)) {
                found.push(format!("{}:{number}: {marker}", relative.display()));
            }
        }
    }
    found
}

#[test]
fn sql_lives_only_in_db_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = sql_outside_db_files(&src);
    assert!(
        found.is_empty(),
        "SQL outside db files (move it into the module's db.rs):\n{}",
        found.join("\n")
    );
}

/// The check itself finds SQL where it does not belong, and only there.
#[test]
fn the_sql_check_sees_a_query_in_a_handler() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("sua");
    std::fs::create_dir_all(module.join("db")).unwrap();
    std::fs::write(
        module.join("pages.rs"),
        "fn show() {\n    // conn.execute( in a comment is fine\n    let n = conn.query_row(\"SELECT 1\", [], |r| r.get(0));\n}\n#[cfg(test)]\nmod tests { fn setup() { conn.execute(\"DELETE FROM x\", []); } }\n",
    )
    .unwrap();
    std::fs::write(module.join("db.rs"), "conn.execute(\"DELETE FROM x\", [])").unwrap();
    std::fs::write(module.join("db/data.rs"), "conn.prepare(\"SELECT 1\")").unwrap();
    assert_eq!(
        sql_outside_db_files(dir.path()),
        vec!["sua/pages.rs:3: .query_row(".to_owned()]
    );
}

#[test]
fn migration_names_must_count_from_one_without_repeats_or_gaps() {
    let names = |list: &[&str]| {
        list.iter()
            .map(|name| (*name).to_owned())
            .collect::<Vec<_>>()
    };
    let ordered = pico_service::migration_files::ordered;
    assert_eq!(
        ordered(&names(&["0002_b.sql", "README.md", "0001_a.sql"])),
        Ok(names(&["0001_a.sql", "0002_b.sql"]))
    );
    let gap = ordered(&names(&["0001_a.sql", "0003_c.sql"])).unwrap_err();
    assert!(gap.contains("0003_c.sql: expected number 0002"), "{gap}");
    let repeat = ordered(&names(&["0001_a.sql", "0002_b.sql", "0002_again.sql"])).unwrap_err();
    assert!(repeat.contains("expected number 0003"), "{repeat}");
    assert!(ordered(&names(&["0002_b.sql"])).is_err());
    assert!(ordered(&names(&["1_a.sql"])).is_err());
}

#[test]
fn the_embedded_migrations_are_the_folder_in_order() {
    let files = pico_node::db::MIGRATION_FILES;
    assert_eq!(files.len(), pico_node::db::MIGRATIONS.len());
    for (index, name) in files.iter().enumerate() {
        let number: usize = name[..4].parse().unwrap();
        assert_eq!(number, index + 1, "{name}");
        assert_eq!(&name[4..5], "_", "{name}");
        assert!(name.ends_with(".sql"), "{name}");
    }
    // The folder holds exactly the embedded files.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, files);
}
