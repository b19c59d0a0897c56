//! `pico-node sua …`: the SUA commands of the command line.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{FromArgMatches as _, Subcommand};

use crate::cli::{open_db, signer};
use crate::config::NodeConfig;
use crate::db::audit::Actor;
use crate::modules::ModuleCli;

/// `pico-node sua …`.
pub const CLI: ModuleCli = ModuleCli { command, run };

fn command() -> clap::Command {
    SuaCommand::augment_subcommands(clap::Command::new("sua")).subcommand_required(true)
}

fn run(config: &NodeConfig, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    sua(config, SuaCommand::from_arg_matches(matches)?)
}

/// Dati della SUA (Stazione Unica Appaltante).
#[derive(Debug, Subcommand)]
pub enum SuaCommand {
    /// Importa procedure dalle release OCDS compilate di ANAC (package, array o JSON Lines) o
    /// da CSV (una riga per lotto), in un'unica transazione. Si può eseguire mentre il nodo è
    /// in servizio: le letture continuano, ma le scritture del nodo attendono (e falliscono
    /// dopo 5 s), quindi importate i file grandi (centinaia di migliaia di lotti) fuori
    /// dall'orario d'ufficio. I record già importati vengono saltati.
    Import {
        /// `ocds` o `csv`; se manca, dall'estensione del file e poi dal contenuto.
        #[arg(long)]
        format: Option<String>,
        /// Stampa il resoconto in JSON invece che come testo.
        #[arg(long)]
        json: bool,
        /// Il file da importare.
        file: PathBuf,
    },
}

fn sua(config: &NodeConfig, command: SuaCommand) -> anyhow::Result<()> {
    use crate::sua::import::{self, ImportError, ImportFormat};
    match command {
        SuaCommand::Import { format, json, file } => {
            let mut reader = std::io::BufReader::new(
                std::fs::File::open(&file)
                    .with_context(|| format!("il file {} non si può leggere", file.display()))?,
            );
            let format = match format {
                Some(text) => ImportFormat::parse(&text)
                    .with_context(|| format!("--format {text}: usate ocds o csv"))?,
                None => {
                    use std::io::BufRead as _;
                    let head = reader.fill_buf()?;
                    ImportFormat::detect(&file.display().to_string(), &head[..head.len().min(64)])
                }
            };
            let db = open_db(config)?;
            let mut conn = db.get()?;
            let signer = signer(config, &conn)?;
            let filename = crate::upload::clean_filename(&file.display().to_string());
            let report = match import::import(
                &mut conn,
                &signer,
                &Actor::cli(),
                format,
                &filename,
                reader,
            ) {
                Ok(report) => report,
                Err(ImportError::Rows { errors, count }) => {
                    let mut message = format!(
                        "importazione rifiutata, non è stato importato nulla: {count} problemi nel file"
                    );
                    for error in &errors {
                        message.push_str(&format!("\n  {error}"));
                    }
                    if count > errors.len() as u64 {
                        message.push_str(&format!("\n  … e altri {}", count - errors.len() as u64));
                    }
                    bail!(message);
                }
                Err(err) => bail!("importazione rifiutata, non è stato importato nulla: {err}"),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
        }
    }
    Ok(())
}
