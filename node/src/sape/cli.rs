//! `pico-node sape …`: the SAPE commands of the command line.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{FromArgMatches as _, Subcommand};

use crate::cli::open_db;
use crate::config::NodeConfig;
use crate::db::{self, audit::Actor};
use crate::modules::ModuleCli;

/// `pico-node sape …`.
pub const CLI: ModuleCli = ModuleCli { command, run };

fn command() -> clap::Command {
    SapeCommand::augment_subcommands(clap::Command::new("sape")).subcommand_required(true)
}

fn run(config: &NodeConfig, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    sape(config, SapeCommand::from_arg_matches(matches)?)
}

/// SAPE: i bandi europei.
#[derive(Debug, Subcommand)]
pub enum SapeCommand {
    /// Importa i bandi dal portale EU Funding & Tenders: il CSV dei suoi topic o il JSON della
    /// sua API di ricerca (riconosciuti dal primo carattere). Tutto o niente; i bandi già nel
    /// catalogo vengono aggiornati per identificativo, mai duplicati.
    Import {
        /// Stampa il resoconto in JSON invece che in testo.
        #[arg(long)]
        json: bool,
        /// Il file.
        file: PathBuf,
    },
}

fn sape(config: &NodeConfig, command: SapeCommand) -> anyhow::Result<()> {
    use crate::sape::import::{self, ImportError};
    let SapeCommand::Import { json, file } = command;
    let bytes =
        std::fs::read(&file).with_context(|| format!("impossibile leggere {}", file.display()))?;
    let db = open_db(config)?;
    let mut conn = db.get()?;
    let filename = crate::upload::clean_filename(&file.display().to_string());
    let signer = crate::cli::signer(config, &conn)?;
    let report = match import::import(
        &mut conn,
        &signer,
        &Actor::cli(),
        &bytes,
        &filename,
        db::now(),
    ) {
        Ok(report) => report,
        Err(ImportError::Rows { errors, count }) => {
            let mut message = format!(
                "importazione rifiutata, nulla è stato importato: {count} righe non valide"
            );
            for error in &errors {
                message.push_str(&format!("\n  {error}"));
            }
            if count > errors.len() as u64 {
                message.push_str(&format!("\n  … e altre {}", count - errors.len() as u64));
            }
            bail!(message);
        }
        Err(err) => bail!("importazione rifiutata, nulla è stato importato: {err}"),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} bandi letti: {} nuovi, {} aggiornati",
            report.total, report.created, report.updated
        );
    }
    Ok(())
}
