//! `pico-node`: the service a Province runs for its Comuni. Filled in by the node issue.

use clap::Parser;

/// Pi.Co. Province node: the Province's own data and services for its Comuni.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
