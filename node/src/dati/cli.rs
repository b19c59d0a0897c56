//! `pico-node dataset …`: the Dati commands of the command line.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{FromArgMatches as _, Subcommand};

use crate::cli::{open_db, signer};
use crate::config::NodeConfig;
use crate::db::{self, audit::Actor};
use crate::modules::ModuleCli;

/// `pico-node dataset …`.
pub const CLI: ModuleCli = ModuleCli { command, run };

fn command() -> clap::Command {
    DatasetCommand::augment_subcommands(clap::Command::new("dataset")).subcommand_required(true)
}

fn run(config: &NodeConfig, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    dataset(config, DatasetCommand::from_arg_matches(matches)?)
}

/// Datasets of the Dati module.
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Import a CSV file (UTF-8, `,` or `;`, header row = field names), all or nothing.
    Import {
        /// Dataset name (lower-case letters, digits, `_`).
        #[arg(long)]
        name: String,
        /// Primary-key field(s), comma-separated (required for a new dataset or with --replace).
        #[arg(long)]
        key: Option<String>,
        /// Title of a new dataset.
        #[arg(long)]
        title: Option<String>,
        /// Replace the whole content (rows not in the file are deleted; the schema may change).
        #[arg(long)]
        replace: bool,
        /// The CSV file.
        file: PathBuf,
    },
    /// Publish a dataset nationally (`national`) or stop (`off`).
    Federation {
        /// Dataset name.
        #[arg(long)]
        name: String,
        /// `national` or `off`.
        setting: String,
    },
    /// Delete rows by primary key (one key per argument; multi-field keys comma-separated).
    DeleteRows {
        /// Dataset name.
        #[arg(long)]
        name: String,
        /// Keys.
        keys: Vec<String>,
    },
    /// Set a dataset's DCAT-AP_IT metadata from a JSON file (the body of
    /// `PUT /v1/datasets/{name}/metadata`); refused, naming each field, if they do not meet
    /// the catalogue's rules.
    Metadata {
        /// Dataset name.
        #[arg(long)]
        name: String,
        /// The JSON file.
        file: PathBuf,
    },
    /// List the datasets.
    List,
}

/// The Province as publisher (name and IPA code), and its row.
fn organisation(
    config: &NodeConfig,
    conn: &rusqlite::Connection,
) -> anyhow::Result<(pico_protocol::dcat::Agent, db::comuni::Province)> {
    let province = db::comuni::province(conn)?
        .context("the node has no Province yet: run `pico-node init` first")?;
    Ok((crate::dati::dcat::organisation(config, &province), province))
}

fn dataset(config: &NodeConfig, command: DatasetCommand) -> anyhow::Result<()> {
    use crate::dati::{Federation, ops};
    let db = open_db(config)?;
    let mut conn = db.get()?;
    match command {
        DatasetCommand::Import {
            name,
            key,
            title,
            replace,
            file,
        } => {
            let csv =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let request = ops::ImportRequest {
                name,
                title,
                key: key.map(|key| key.split(',').map(|k| k.trim().to_owned()).collect()),
                csv,
                replace,
            };
            let signer = signer(config, &conn)?;
            let report = ops::import(&mut conn, &signer, &Actor::cli(), &request)
                .map_err(|e| anyhow::anyhow!("import refused, nothing was changed: {e}"))?;
            println!(
                "{}: {} rows in the file, {} new, {} changed, {} unchanged, {} deleted (schema version {})",
                report.dataset,
                report.rows,
                report.inserted,
                report.updated,
                report.unchanged,
                report.deleted,
                report.schema_version
            );
            if !report.entries.is_empty() {
                println!(
                    "  published as {} signed entries ({} bytes), queued for the hub",
                    report.entries.len(),
                    report.entry_bytes
                );
            }
        }
        DatasetCommand::Federation { name, setting } => {
            let setting: Federation = setting.parse().map_err(anyhow::Error::msg)?;
            let signer = signer(config, &conn)?;
            let org = organisation(config, &conn)?;
            let report =
                ops::set_federation(&mut conn, &signer, &Actor::cli(), &name, setting, &org.0)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: federation {} ({} entries queued)",
                report.dataset,
                report.federation.as_str(),
                report.entries.len()
            );
        }
        DatasetCommand::DeleteRows { name, keys } => {
            let keys: Vec<Vec<String>> = keys
                .iter()
                .map(|key| key.split(',').map(str::to_owned).collect())
                .collect();
            let signer = signer(config, &conn)?;
            let report = ops::delete_rows(&mut conn, &signer, &Actor::cli(), &name, &keys)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: {} rows deleted ({} entries queued)",
                report.dataset,
                report.deleted,
                report.entries.len()
            );
        }
        DatasetCommand::Metadata { name, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let form: crate::dati::dcat::MetadataForm = serde_json::from_str(&text)
                .with_context(|| format!("{} is not the JSON of the metadata", file.display()))?;
            let signer = signer(config, &conn)?;
            let (org, province) = organisation(config, &conn)?;
            let report = ops::set_metadata(
                &mut conn,
                &signer,
                &Actor::cli(),
                &name,
                &form,
                &org,
                &province,
            )
            .map_err(|e| anyhow::anyhow!("metadata refused, nothing was changed: {e}"))?;
            println!(
                "{}: metadata saved, {} ({} entries queued)",
                report.dataset,
                if report.open { "open data" } else { "internal" },
                report.entries.len()
            );
        }
        DatasetCommand::List => {
            for dataset in db::datasets::list(&conn)? {
                // A derived dataset has no rows while off: say so, lest 0 look like data lost.
                let derived = match (crate::dati::derived_by(&dataset.name), dataset.federation) {
                    (Some(module), Federation::Off) => format!(
                        "\tderived from the {module} records: rows are built when it is federated"
                    ),
                    (Some(module), Federation::National) => {
                        format!("\tderived from the {module} records")
                    }
                    (None, _) => String::new(),
                };
                println!(
                    "{}\t{}\t{} rows\tschema v{}\tfederation {}{derived}",
                    dataset.name,
                    dataset.title,
                    dataset.row_count,
                    dataset.schema_version,
                    dataset.federation.as_str()
                );
            }
        }
    }
    Ok(())
}
