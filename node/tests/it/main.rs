//! Integration tests of pico-node: real servers on port 0 over temporary SQLite files.
#![expect(
    clippy::unwrap_used,
    reason = "tests fail loudly on any unexpected error"
)]

mod attachments;
mod authz;
mod backup;
mod browser;
mod federation;
mod helpers;
mod init;
mod inputs;
mod networks;
mod openapi;
mod practices;
