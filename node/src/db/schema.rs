//! The node's schema, as append-only migrations keyed by `PRAGMA user_version`: the files of
//! `node/migrations/` (`NNNN_name.sql`), embedded in number order by `build.rs`, which fails
//! the build if a number repeats or one is missing. Never edit a released file: add the next.

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
