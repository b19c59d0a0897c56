//! `pico-hub bes …`: importing an edition of ISTAT's BES dei territori from its two files.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::config::HubConfig;
use crate::db::bes::{self as store, ImportCounts};

/// `bes` subcommands.
#[derive(Debug, Subcommand)]
pub enum BesAction {
    /// Importa un'edizione del BES dei territori dai file dell'ISTAT (CSV degli indicatori per
    /// provincia e sesso, CSV dei metadati). Se l'edizione c'è già, la sostituisce per intero;
    /// un file con un errore non cambia nulla.
    Import {
        /// L'edizione, ad esempio 2020.
        #[arg(long)]
        edition: i64,
        /// Il file degli indicatori (colonne DOMINIO, CODICE, INDICATORE, SESSO, TERRITORIO,
        /// UNITA_MISURA, FONTE, V_2004…, NOTE).
        file: PathBuf,
        /// Il file dei metadati (colonne Indicatore, Tipo di indicatore, Definizione…).
        metadata: PathBuf,
    },
}

/// What an import says it did, in Italian.
pub fn summary(edition: i64, counts: &ImportCounts) -> String {
    let years = counts.years.map_or_else(String::new, |(first, last)| {
        format!(", anni {first}–{last}")
    });
    format!(
        "edizione {edition} del BES dei territori {}: {} indicatori, {} territori di cui {} Province ({} collegate al registro), {} valori{years}",
        if counts.replaced {
            "sostituita"
        } else {
            "importata"
        },
        counts.indicators,
        counts.territories,
        counts.provinces,
        counts.mapped,
        counts.values,
    )
}

/// Runs a `bes` subcommand.
pub fn execute(action: &BesAction, config: &HubConfig) -> anyhow::Result<()> {
    match action {
        BesAction::Import {
            edition,
            file,
            metadata,
        } => {
            if !(2000..=2200).contains(edition) {
                anyhow::bail!(
                    "edizione {edition} non valida: l'anno dell'edizione, ad esempio 2020"
                );
            }
            let indicators = std::fs::read_to_string(file)
                .with_context(|| format!("impossibile leggere {}", file.display()))?;
            let meta = std::fs::read_to_string(metadata)
                .with_context(|| format!("impossibile leggere {}", metadata.display()))?;
            let db = crate::open_db(&config.db_path(), 1)?;
            let mut conn = db.get()?;
            let registry = store::registry_units(&conn)?;
            if registry.is_empty() {
                anyhow::bail!("il registro delle Province è vuoto: eseguire prima `pico-hub init`");
            }
            let data = crate::bes::import::read(&indicators, &meta, &registry)
                .context("file rifiutato, nulla è cambiato")?;
            let source = file
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let counts = store::replace_edition(&mut conn, *edition, &source, &data)?;
            println!("{}", summary(*edition, &counts));
            let unmapped = data.unmapped_provinces();
            if !unmapped.is_empty() {
                println!(
                    "Province non presenti nel registro (tenute con il nome del file, senza codice): {}",
                    unmapped.join(", ")
                );
            }
            let missing = data.without_metadata();
            if !missing.is_empty() {
                println!("indicatori senza metadati: {}", missing.join(", "));
            }
            if !data.unused_metadata.is_empty() {
                println!(
                    "metadati di indicatori assenti dal file: {}",
                    data.unused_metadata.join("; ")
                );
            }
            Ok(())
        }
    }
}
