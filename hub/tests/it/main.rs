//! Integration tests of the hub: a real server on port 0 over a temporary SQLite database,
//! driven over HTTP with entries signed by `pico-protocol`.

#![expect(
    clippy::unwrap_used,
    reason = "tests fail loudly on any unexpected error"
)]

mod support;

mod appalti;
mod bes;
mod browser;
mod bulk;
mod cli;
mod crash;
mod formazione;
mod ingest;
mod log;
mod national;
mod networks;
mod pages;
mod report;
mod sape;
mod security;
mod sit;
mod spec;
