//! `pico-node network …`: the thematic networks on the command line.

use anyhow::{Context as _, bail};
use clap::{FromArgMatches as _, Subcommand};
use serde_json::json;

use crate::cli::{open_db, signer};
use crate::config::NodeConfig;
use crate::db::{self, audit::Actor};
use crate::modules::ModuleCli;

/// `pico-node network …`.
pub const CLI: ModuleCli = ModuleCli { command, run };

fn command() -> clap::Command {
    NetworkCommand::augment_subcommands(clap::Command::new("network")).subcommand_required(true)
}

fn run(config: &NodeConfig, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    network(config, NetworkCommand::from_arg_matches(matches)?)
}

/// The thematic networks (sua, sape, sit, personale).
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Join a network at the hub (a request signed with the node's key) and record it.
    Join {
        /// `sua`, `sape`, `sit` or `personale`.
        network: String,
    },
    /// Leave a network at the hub and locally.
    Leave {
        /// `sua`, `sape`, `sit` or `personale`.
        network: String,
    },
    /// List the networks, this node's memberships, the inbox and held keys.
    List,
    /// Trust a key the hub listed without a rotation entry (after confirming it with UPI
    /// out of band) and release the posts held for it.
    TrustKey {
        /// The key id, as the alarm names it.
        kid: String,
    },
}

fn network(config: &NodeConfig, command: NetworkCommand) -> anyhow::Result<()> {
    use crate::networks::db as store;
    let db = open_db(config)?;
    let change = match &command {
        NetworkCommand::Join { network } => Some((true, network.clone())),
        NetworkCommand::Leave { network } => Some((false, network.clone())),
        _ => None,
    };
    match command {
        NetworkCommand::Join { .. } | NetworkCommand::Leave { .. } => {
            let (join, network) = change.context("a join or leave")?;
            let signer = signer(config, &*db.get()?)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                if join {
                    crate::networks::join(&db, &signer, &config.federation, &network, Actor::cli())
                        .await
                } else {
                    crate::networks::leave(&db, &signer, &config.federation, &network, Actor::cli())
                        .await
                }
            })?;
            println!(
                "{} the network {network}",
                if join { "joined" } else { "left" }
            );
        }
        NetworkCommand::List => {
            let conn = db.get()?;
            let members = store::memberships(&conn)?;
            for name in store::NETWORKS {
                match members.iter().find(|(n, _)| n == name) {
                    Some((_, at)) => println!("{name}\tmember since {}", db::rfc3339(*at)),
                    None => println!("{name}\tnot a member"),
                }
            }
            let province = db::comuni::province(&conn)?.context("no Province")?;
            let inbox = store::inbox_status(&conn, &province.code)?;
            println!(
                "inbox: cursor {}, {} posts received, {} in quarantine, last pull {}",
                inbox.cursor,
                inbox.received,
                inbox.quarantined,
                inbox.last_pull_at.as_deref().unwrap_or("never")
            );
            for key in store::keys(&conn)?.iter().filter(|key| !key.trusted) {
                println!(
                    "HELD KEY {} of {}: listed by the hub without a rotation entry",
                    key.kid, key.province
                );
            }
        }
        NetworkCommand::TrustKey { kid } => {
            let mut conn = db.get()?;
            let Some((province, released)) = crate::networks::inbox::trust_key(&mut conn, &kid)?
            else {
                bail!("no key {kid} is known: see `pico-node network list`");
            };
            db::audit::record(
                &conn,
                &Actor::cli(),
                "network.trust_key",
                &format!("key:{kid}"),
                &json!({"province": province, "released": released}),
                db::now(),
            )?;
            println!("key {kid} of {province} trusted; {released} held posts released");
        }
    }
    Ok(())
}
