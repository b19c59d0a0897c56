//! `pico-hub`: the national hub run by UPI. Parses the command line, loads the config, starts
//! tracing and hands over to the library.

use pico_hub::cli::Command;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("errore: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = pico_hub::cli::parse();
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
                    .map_err(|e| {
                        anyhow::anyhow!("impossibile ascoltare su {}: {e}", config.listen)
                    })?;
                pico_hub::run(config, listener, pico_service::server::shutdown_signal()).await
            })
        }
        command => pico_hub::cli::execute(&command, &config),
    }
}
