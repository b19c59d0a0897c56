//! `pico-node federation …`: publishing to the UPI hub, from the command line.

use anyhow::{Context as _, bail};
use clap::{FromArgMatches as _, Subcommand};
use serde_json::json;

use crate::cli::{open_db, signer};
use crate::config::NodeConfig;
use crate::db::{self, audit::Actor};
use crate::modules::ModuleCli;

/// `pico-node federation …`.
pub const CLI: ModuleCli = ModuleCli { command, run };

fn command() -> clap::Command {
    FederationCommand::augment_subcommands(clap::Command::new("federation"))
        .subcommand_required(true)
}

fn run(config: &NodeConfig, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    federation(config, FederationCommand::from_arg_matches(matches)?)
}

/// La pubblicazione verso l'hub UPI.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum FederationCommand {
    /// Stampa lo stato della pubblicazione e gli allarmi aperti.
    Status,
    /// Dopo il ripristino di una copia che ha bloccato la firma: riprende il registro dalla
    /// testa dell'hub e ripubblica ogni dataset nazionale come istantanea completa.
    Resync,
    /// Dimentica la chiave dell'hub fissata (solo dopo aver confermato il cambio con UPI per
    /// altra via).
    Unpin,
}

fn federation(config: &NodeConfig, command: FederationCommand) -> anyhow::Result<()> {
    use crate::db::federation as store;
    let db = open_db(config)?;
    let mut conn = db.get()?;
    match command {
        FederationCommand::Status => {
            let status = store::status(&conn)?;
            let hub = config.federation.hub_url.trim();
            println!(
                "hub: {}",
                if hub.is_empty() {
                    "nessuno configurato: la pubblicazione è spenta"
                } else {
                    hub
                }
            );
            println!("{}", serde_json::to_string_pretty(&status)?);
            for alarm in store::alarms(&conn, true, 50)? {
                println!("ALLARME {} {}: {}", alarm.at, alarm.kind, alarm.detail);
            }
        }
        FederationCommand::Resync => {
            let signer = signer(config, &conn)?;
            let tx = conn.transaction()?;
            let Some((seq, hash)) = store::adopt_hub_head(&tx)? else {
                bail!("la pubblicazione non è bloccata: non c'è nulla da riallineare");
            };
            let mut entries = 0;
            for name in db::datasets::national(&tx)? {
                let dataset = db::datasets::get(&tx, &name)?.context("dataset appena elencato")?;
                entries += crate::dati::ops::emit_snapshot(&tx, &signer, &dataset)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .len();
            }
            store::resolve_alarms(&tx, crate::federation::alarm::LOG_BEHIND_HUB)?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "federation.resync",
                "federation",
                &json!({"adopted_seq": seq, "snapshot_entries": entries}),
                db::now(),
            )?;
            tx.commit()?;
            println!(
                "il registro riprende dalla testa dell'hub (seq {seq}, {hash}); {entries} voci di istantanea in coda"
            );
        }
        FederationCommand::Unpin => {
            let tx = conn.transaction()?;
            store::unpin(&tx)?;
            store::resolve_alarms(&tx, crate::federation::alarm::HUB_KEY_CHANGED)?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "federation.unpin",
                "federation",
                &json!({}),
                db::now(),
            )?;
            tx.commit()?;
            println!(
                "chiave dell'hub dimenticata: il prossimo contatto fissa la chiave che l'hub presenta"
            );
        }
    }
    Ok(())
}
