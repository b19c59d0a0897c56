//! `pico-node` command line: parse, then hand over to the library.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = pico_node::cli::Cli::parse();
    match pico_node::cli::execute(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
