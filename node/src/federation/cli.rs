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

/// Publishing to the UPI hub.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum FederationCommand {
    /// Print the publishing status and open alarms.
    Status,
    /// After a restored backup blocked signing: continue the log from the hub's head and
    /// republish every national dataset as a fresh snapshot.
    Resync,
    /// Forget the pinned hub key (only after confirming a key change with UPI out of band).
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
                    "none configured: publishing is off"
                } else {
                    hub
                }
            );
            println!("{}", serde_json::to_string_pretty(&status)?);
            for alarm in store::alarms(&conn, true, 50)? {
                println!("ALARM {} {}: {}", alarm.at, alarm.kind, alarm.detail);
            }
        }
        FederationCommand::Resync => {
            let signer = signer(config, &conn)?;
            let tx = conn.transaction()?;
            let Some((seq, hash)) = store::adopt_hub_head(&tx)? else {
                bail!("publishing is not blocked: nothing to resync");
            };
            let mut entries = 0;
            for name in db::datasets::national(&tx)? {
                let dataset = db::datasets::get(&tx, &name)?.context("dataset just listed")?;
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
                "the log continues from the hub's head (seq {seq}, {hash}); {entries} snapshot entries queued"
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
            println!("hub key forgotten: the next contact pins the key the hub presents");
        }
    }
    Ok(())
}
