//! `pico-hub`: the national hub run by UPI. Parses the command line, loads the config, starts
//! tracing and hands over to the library.

use clap::Parser;
use pico_hub::cli::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::ConfigExample = cli.command {
        print!("{}", pico_hub::config::EXAMPLE);
        return Ok(());
    }
    let config = pico_hub::cli::resolve_config(&cli)?;
    pico_service::observe::init_tracing(config.log_format, &config.log_filter);
    match cli.command {
        Command::Serve { .. } => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind(&config.listen)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
                pico_hub::run(config, listener, pico_service::server::shutdown_signal()).await
            })
        }
        command => pico_hub::cli::execute(&command, &config),
    }
}
