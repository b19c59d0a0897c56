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

/// I dataset del modulo Dati.
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Importa un file CSV (UTF-8, `,` o `;`, la prima riga con i nomi dei campi): tutto o niente.
    Import {
        /// Nome del dataset (lettere minuscole, cifre, `_`).
        #[arg(long)]
        name: String,
        /// Campo o campi della chiave primaria, separati da virgole (obbligatori per un nuovo
        /// dataset o con --replace).
        #[arg(long)]
        key: Option<String>,
        /// Titolo di un nuovo dataset.
        #[arg(long)]
        title: Option<String>,
        /// Sostituisce tutto il contenuto (le righe assenti dal file sono eliminate; lo schema
        /// può cambiare).
        #[arg(long)]
        replace: bool,
        /// Il file CSV.
        file: PathBuf,
    },
    /// Pubblica un dataset a livello nazionale (`national`) o smette di farlo (`off`).
    Federation {
        /// Nome del dataset.
        #[arg(long)]
        name: String,
        /// `national` o `off`.
        setting: String,
    },
    /// Elimina righe per chiave primaria (una chiave per argomento; le chiavi di più campi
    /// separate da virgole).
    DeleteRows {
        /// Nome del dataset.
        #[arg(long)]
        name: String,
        /// Le chiavi.
        keys: Vec<String>,
    },
    /// Imposta i metadati DCAT-AP_IT di un dataset da un file JSON (il corpo di
    /// `PUT /v1/datasets/{name}/metadata`); rifiutati, campo per campo, se non rispettano
    /// le regole del catalogo.
    Metadata {
        /// Nome del dataset.
        #[arg(long)]
        name: String,
        /// Il file JSON.
        file: PathBuf,
    },
    /// Elenca i dataset.
    List,
}

/// The Province as publisher (name and IPA code), and its row.
fn organisation(
    config: &NodeConfig,
    conn: &rusqlite::Connection,
) -> anyhow::Result<(pico_protocol::dcat::Agent, db::comuni::Province)> {
    let province = db::comuni::province(conn)?
        .context("il nodo non ha ancora una Provincia: eseguite prima `pico-node init`")?;
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
            let csv = std::fs::read(&file)
                .with_context(|| format!("il file {} non si può leggere", file.display()))?;
            let request = ops::ImportRequest {
                name,
                title,
                key: key.map(|key| key.split(',').map(|k| k.trim().to_owned()).collect()),
                csv,
                replace,
            };
            let signer = signer(config, &conn)?;
            let report = ops::import(&mut conn, &signer, &Actor::cli(), &request).map_err(|e| {
                anyhow::anyhow!("importazione rifiutata, non è cambiato nulla: {e}")
            })?;
            println!(
                "{}: {} righe nel file, {} nuove, {} modificate, {} invariate, {} eliminate (versione di schema {})",
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
                    "  pubblicato in {} voci firmate ({} byte), in coda per l'hub",
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
                "{}: federazione {} ({} voci in coda)",
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
                "{}: {} righe eliminate ({} voci in coda)",
                report.dataset,
                report.deleted,
                report.entries.len()
            );
        }
        DatasetCommand::Metadata { name, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("impossibile leggere {}", file.display()))?;
            let form: crate::dati::dcat::MetadataForm = serde_json::from_str(&text)
                .with_context(|| {
                    format!(
                        "{} non contiene i metadati in JSON (un oggetto con i campi della scheda DCAT-AP_IT)",
                        file.display()
                    )
                })?;
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
            .map_err(|e| anyhow::anyhow!("metadati rifiutati, non è cambiato nulla: {e}"))?;
            println!(
                "{}: metadati salvati, {} ({} voci in coda)",
                report.dataset,
                if report.open {
                    "dato aperto"
                } else {
                    "uso interno"
                },
                report.entries.len()
            );
        }
        DatasetCommand::List => {
            for dataset in db::datasets::list(&conn)? {
                // A derived dataset has no rows while off: say so, lest 0 look like data lost.
                let derived = match (crate::dati::derived_by(&dataset.name), dataset.federation) {
                    (Some(module), Federation::Off) => format!(
                        "\tricavato dai dati del modulo {module}: le righe si generano quando è federato"
                    ),
                    (Some(module), Federation::National) => {
                        format!("\tricavato dai dati del modulo {module}")
                    }
                    (None, _) => String::new(),
                };
                println!(
                    "{}\t{}\t{} righe\tschema v{}\tfederazione {}{derived}",
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
