//! `pico-hub`: the national hub run by UPI. Filled in by the hub issue.

use clap::Parser;

/// Pi.Co. UPI hub: enrolment, verified ingest, transparency log, national view.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
