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

/// SUA (Stazione Unica Appaltante) data.
#[derive(Debug, Subcommand)]
pub enum SuaCommand {
    /// Import procedures from ANAC OCDS compiled releases (package, array or JSON Lines) or
    /// from CSV (one row per lot), in one transaction. It can run while the node serves:
    /// reads go on, but the node's own writes wait for it (and fail after 5 s), so import
    /// large files (hundreds of thousands of lots) outside office hours. Records already
    /// imported are skipped.
    Import {
        /// `ocds` or `csv`; by default from the extension, then from the content.
        #[arg(long)]
        format: Option<String>,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The file.
        file: PathBuf,
    },
}

fn sua(config: &NodeConfig, command: SuaCommand) -> anyhow::Result<()> {
    use crate::sua::import::{self, ImportError, ImportFormat};
    match command {
        SuaCommand::Import { format, json, file } => {
            let mut reader = std::io::BufReader::new(
                std::fs::File::open(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?,
            );
            let format = match format {
                Some(text) => ImportFormat::parse(&text)
                    .with_context(|| format!("--format {text}: use ocds or csv"))?,
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
                        "import refused, nothing was imported: {count} problems in the file"
                    );
                    for error in &errors {
                        message.push_str(&format!("\n  {error}"));
                    }
                    if count > errors.len() as u64 {
                        message
                            .push_str(&format!("\n  … and {} more", count - errors.len() as u64));
                    }
                    bail!(message);
                }
                Err(err) => bail!("import refused, nothing was imported: {err}"),
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
