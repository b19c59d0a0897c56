//! Integration tests of pico-node: real servers on port 0 over temporary SQLite files.
#![expect(
    clippy::unwrap_used,
    reason = "tests fail loudly on any unexpected error"
)]

mod attachments;
mod authz;
mod backup;
mod bes;
mod blocks;
mod browser;
mod crawl;
mod dcat;
mod federation;
mod formazione;
mod formazione_browser;
mod formazione_certificates;
mod formazione_editions;
mod formazione_moodle;
mod formazione_national;
mod formazione_targets;
mod helpers;
mod init;
mod inputs;
mod layout;
mod lifecycle;
mod migrations;
mod modules;
mod networks;
mod openapi;
mod people;
mod portale;
mod practices;
mod sape;
mod sape_browser;
mod sape_national;
mod sape_partners;
mod security;
mod sit;
mod sua_aggregated;
mod sua_browser;
mod sua_data;
mod sua_helpers;
mod sua_national;
mod sua_pages;
mod sua_transitions;
mod sua_workflow;
