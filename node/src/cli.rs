//! The command line: the shell's commands (`init`, `serve`, `migrate`, `backup`, `restore`,
//! `check-config`, `user …`, `token …`, `key show`) and each module's own (`sua import`,
//! `dataset …`, `network …`, `federation …`: see [`crate::modules::ModuleCli`]), which the
//! registry adds. Each command is a function over the loaded config.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use pico_protocol::{ComuneCode, ProvinceCode, SecretKey};
use pico_service::{Db, observe};
use serde_json::json;

use crate::auth::{Module, Role, Roles, RolesError, secrets};
use crate::config::{ENV_CONFIG_FILE, EXAMPLE, NodeConfig};
use crate::db::{self, audit::Actor};
use crate::modules::Registry;

/// Pi.Co. Province node: the Province's own data and services for its Comuni.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// Configuration file (TOML); see `deploy/node.example.toml`.
    #[arg(long, global = true, env = ENV_CONFIG_FILE)]
    pub config: Option<PathBuf>,
    /// Data directory (overrides `data_dir` of the config).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a node: database, signing key, the Province and all its Comuni, first admin.
    Init {
        /// ISTAT historical province code (codice_provincia_storico), e.g. 026 for Treviso.
        #[arg(long)]
        province: String,
    },
    /// Serve the web pages and the API.
    Serve {
        /// Address to listen on (overrides `listen`).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write a consistent copy of the live database to FILE (safe while serving).
    Backup {
        /// Destination; must not exist.
        file: PathBuf,
    },
    /// Replace the database with the backup FILE (the node must be stopped).
    Restore {
        /// A file written by `backup`.
        file: PathBuf,
    },
    /// Check the configuration and report every problem.
    CheckConfig,
    /// Print the example configuration.
    ConfigExample,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The node's signing key.
    #[command(subcommand)]
    Key(KeyCommand),
}

/// `user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user and print a one-time password (to be changed at the first login).
    Add {
        /// Login name.
        username: String,
        /// Name shown on pages.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        roles: RoleArgs,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Replace the roles of a Province user (a Comune user's Comune never changes).
    SetRoles {
        /// Login name.
        username: String,
        #[command(flatten)]
        roles: RoleArgs,
    },
    /// Disable a user (ends its sessions, revokes its tokens).
    Disable {
        /// Login name.
        username: String,
    },
    /// Re-enable a disabled user.
    Enable {
        /// Login name.
        username: String,
    },
    /// Set a new one-time password and print it (ends the user's sessions).
    ResetPassword {
        /// Login name.
        username: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
}

/// The roles of `user add` and `user set-roles`.
#[derive(Debug, Clone, clap::Args)]
pub struct RoleArgs {
    /// admin, operator or comune; repeat it for several (`--role admin --role operator`).
    #[arg(long, required = true)]
    pub role: Vec<String>,
    /// For operators: sua, sape, sit, personale, helpdesk, formazione, dati, community;
    /// repeat it for an operator of several modules.
    #[arg(long)]
    pub module: Vec<String>,
    /// For Comune users: the Comune's ISTAT code (a Comune user holds no other role).
    #[arg(long)]
    pub comune: Option<String>,
}

impl RoleArgs {
    /// The roles these arguments name, checked against the Comuni of the database.
    fn resolve(&self, conn: &rusqlite::Connection) -> anyhow::Result<Roles> {
        const USAGE: &str = "use --role admin, --role operator --module <module> (repeatable), \
             or --role comune --comune <ISTAT code>";
        let mut roles = Vec::new();
        let mut operator = false;
        for role in &self.role {
            match role.as_str() {
                "admin" => roles.push(Role::Admin),
                "operator" => operator = true,
                "comune" => {
                    let code = self.comune.as_deref().context(USAGE)?;
                    let code = ComuneCode::parse(code)?;
                    if db::comuni::name_of(conn, code.as_str())?.is_none() {
                        bail!("{code} is not a Comune of this Province");
                    }
                    roles.push(Role::Comune(code));
                }
                other => bail!("unknown role {other:?}: {USAGE}"),
            }
        }
        if operator == self.module.is_empty() {
            bail!("{USAGE}");
        }
        if self.comune.is_some() && !self.role.iter().any(|role| role == "comune") {
            bail!("{USAGE}");
        }
        for module in &self.module {
            roles.push(Role::Operator(
                module.parse::<Module>().map_err(anyhow::Error::msg)?,
            ));
        }
        Roles::from_roles(roles).map_err(|err| {
            let why = match err {
                RolesError::Empty => "no role given",
                RolesError::ComuneAndProvince => {
                    "a Comune user holds no Province role (admin or operator)"
                }
                RolesError::TwoComuni => "a Comune user belongs to one Comune",
            };
            anyhow::anyhow!("{why}: {USAGE}")
        })
    }
}

/// How `user add` and `user reset-password` set the password.
#[derive(Debug, Clone, clap::Args)]
pub struct PasswordArgs {
    /// Take the password from the first line of this file (`-` for standard input) instead of
    /// generating and printing one: it never appears on a command line, in the shell history
    /// or in `ps`. It must follow the rules of the change page (at least 12 characters, not
    /// the username).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Do not ask for a change at the first login: for demo accounts, or a password the
    /// user chose and handed over itself. By default the password is one-time.
    #[arg(long, requires = "password_file")]
    pub no_change: bool,
}

impl PasswordArgs {
    /// The password to set, whether it must be changed at the first login, and whether it
    /// was generated here (and so must be printed).
    fn resolve(&self, username: &str) -> anyhow::Result<(String, bool, bool)> {
        let Some(path) = &self.password_file else {
            return Ok((secrets::new_password(), true, true));
        };
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?
        };
        let password = text.lines().next().unwrap_or_default().to_owned();
        let problems = crate::auth::password::check_new(username, "", &password, None);
        if let Some(problem) = problems.values().next() {
            bail!("the password in {} is refused: {problem}", path.display());
        }
        Ok((password, !self.no_change, false))
    }
}

/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token acting as USERNAME (with its role) and print it once.
    Create {
        /// The user the token acts as.
        username: String,
        /// A label to recognise the token.
        #[arg(long, default_value = "api")]
        name: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// Revoke a token by id.
    Revoke {
        /// Token id printed by `token create`.
        id: i64,
    },
}

/// `key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print the public key and key id, for enrolment at the hub.
    Show,
}

/// The whole command line of a node running `registry`: the shell's commands and those of
/// the modules that have one.
pub fn command(registry: Registry) -> clap::Command {
    registry
        .iter()
        .filter_map(|kit| kit.cli)
        .fold(Cli::command(), |command, cli| {
            command.subcommand((cli.command)())
        })
}

/// Parses `args` (the program name first) and runs the command; prints help, the version or
/// a usage error and exits as clap does.
pub fn run<I, T>(registry: Registry, args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command(registry).get_matches_from(args);
    if let Some((name, below)) = matches.subcommand() {
        let module = registry
            .iter()
            .filter_map(|kit| kit.cli)
            .find(|cli| (cli.command)().get_name() == name);
        if let Some(cli) = module {
            let config = load_config(
                matches.get_one::<PathBuf>("config").map(PathBuf::as_path),
                matches.get_one::<PathBuf>("data_dir").cloned(),
                false,
            )?;
            return (cli.run)(&config, below);
        }
    }
    execute(Cli::from_arg_matches(&matches)?)
}

/// The configuration for a command: the file (or the defaults and the environment), the
/// data directory given on the command line, and tracing started.
fn load_config(
    file: Option<&Path>,
    data_dir: Option<PathBuf>,
    checking: bool,
) -> anyhow::Result<NodeConfig> {
    let mut config = match NodeConfig::load(file) {
        Ok(config) => config,
        Err(err) if checking => bail!("{err}"),
        Err(err) => {
            return Err(err)
                .context("invalid configuration (run `pico-node check-config` for details)");
        }
    };
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    observe::init_tracing(config.log_format, &config.log_filter);
    Ok(config)
}

/// Runs a parsed command of the shell.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    if let Command::ConfigExample = cli.command {
        print!("{EXAMPLE}");
        return Ok(());
    }
    let checking = matches!(cli.command, Command::CheckConfig);
    let mut config = load_config(cli.config.as_deref(), cli.data_dir, checking)?;
    match cli.command {
        Command::ConfigExample => Ok(()),
        Command::CheckConfig => {
            println!(
                "configuration OK (data directory {})",
                config.data_dir.display()
            );
            Ok(())
        }
        Command::Init { province } => init(&config, &province),
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            serve(config)
        }
        Command::Migrate => {
            let _lock = pico_service::lock::DataDirLock::acquire(&config.lock_path(), "pico-node")?;
            let state = crate::open_state(config)?;
            println!("database at schema version {}", state.db.schema_version());
            Ok(())
        }
        Command::Backup { file } => {
            let db = Db::open_existing(&config.db_path(), db::MIGRATIONS, 1)?;
            db.backup_to(&file)
                .with_context(|| format!("backup to {}", file.display()))?;
            println!("backup written to {}", file.display());
            Ok(())
        }
        Command::Restore { file } => restore(&config, &file),
        Command::User(command) => user(&config, command),
        Command::Token(command) => token(&config, command),
        Command::Key(KeyCommand::Show) => {
            let key = SecretKey::load(&config.key_path())?;
            println!("public key: {}", key.public_key());
            println!("key id:     {}", key.key_id());
            Ok(())
        }
    }
}

fn serve(config: NodeConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        crate::run(config, listener, pico_service::server::shutdown_signal()).await
    })
}

/// `init`: refuses an existing node or an unknown Province.
pub fn init(config: &NodeConfig, province: &str) -> anyhow::Result<()> {
    let code = ProvinceCode::parse(province.trim())?;
    let comuni = db::comuni::istat_comuni(code)?;
    if comuni.is_empty() {
        bail!(
            "{code} is not the code of an Italian Province in the ISTAT list. Use the historical province code \
             (codice_provincia_storico), the first three digits of its Comuni's ISTAT codes: e.g. 026 Treviso, \
             017 Brescia, 041 Pesaro e Urbino, 001 Città metropolitana di Torino (not its territorial code 201). \
             The list is at https://www.istat.it/it/archivio/6789 and in node/data/comuni_istat_2025.csv."
        );
    }
    let (db_path, key_path) = (config.db_path(), config.key_path());
    if db_path.exists() || key_path.exists() {
        bail!(
            "{} already holds a node (node.db or node.key exists); refusing to overwrite it",
            config.data_dir.display()
        );
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    #[cfg(unix)]
    {
        // The directory holds the signing key and personal data: owner only.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let _lock = pico_service::lock::DataDirLock::acquire(&config.lock_path(), "pico-node")?;
    let db = Db::open(&db_path, db::MIGRATIONS, 1)?;
    // One-time: the first login leads straight to the change page.
    let password = secrets::new_password();
    let hash = secrets::hash_password(&password)
        .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))?;
    let mut conn = db.get()?;
    let tx = conn.transaction()?;
    let now = db::now();
    let seeded = db::comuni::seed(&tx, code, &comuni, now)?;
    let admin =
        db::people::insert_user(&tx, "admin", "Amministratore", &hash, Roles::admin(), now)?;
    db::people::set_must_change_password(&tx, admin, true)?;
    db::audit::record(
        &tx,
        &Actor::cli(),
        "node.init",
        &format!("province:{code}"),
        &json!({"comuni": seeded}),
        now,
    )?;
    db::audit::record(
        &tx,
        &Actor::cli(),
        "user.add",
        &format!("user:{admin}"),
        &json!({"roles": ["admin"]}),
        now,
    )?;
    tx.commit()?;
    let key = SecretKey::generate();
    key.save(&key_path)?;
    let province = db::comuni::province(&conn)?.context("province just written")?;
    println!(
        "Initialised the node of {} ({code}) in {}",
        province.name,
        config.data_dir.display()
    );
    println!("  Comuni: {seeded} (Fonte: Istat)");
    println!(
        "  Signing key: {} (key id {})",
        key_path.display(),
        key.key_id()
    );
    println!();
    println!(
        "First administrator (one-time password, shown once: the first login asks for a new one):"
    );
    println!("  username: admin");
    println!("  password: {password}");
    Ok(())
}

fn restore(config: &NodeConfig, file: &Path) -> anyhow::Result<()> {
    let _lock = pico_service::lock::DataDirLock::acquire(&config.lock_path(), "pico-node")?;
    // Check the backup before touching anything: it must be a node database this binary
    // can open.
    Db::open_existing(file, db::MIGRATIONS, 1)
        .with_context(|| format!("{} is not a usable backup", file.display()))?;
    pico_service::db::restore(file, &config.db_path())?;
    println!(
        "restored {} from {}",
        config.db_path().display(),
        file.display()
    );
    Ok(())
}

/// The node database of `config`, for a command that works on it.
pub fn open_db(config: &NodeConfig) -> anyhow::Result<Db> {
    Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).with_context(|| {
        format!(
            "cannot open the node database in {}",
            config.data_dir.display()
        )
    })
}

fn user(config: &NodeConfig, command: UserCommand) -> anyhow::Result<()> {
    let db = open_db(config)?;
    let mut conn = db.get()?;
    let tx = conn.transaction()?;
    let now = db::now();
    match command {
        UserCommand::Add {
            username,
            name,
            roles,
            password,
        } => {
            let role = roles.resolve(&tx)?;
            if db::people::user_by_name(&tx, &username)?.is_some() {
                bail!("user {username} already exists");
            }
            let (password, must_change, generated) = password.resolve(&username)?;
            let hash = secrets::hash_password(&password)
                .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))?;
            let id = db::people::insert_user(&tx, &username, &name, &hash, &role, now)?;
            let codes: Vec<String> = role.to_vec().iter().map(ToString::to_string).collect();
            db::people::set_must_change_password(&tx, id, must_change)?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.add",
                &format!("user:{id}"),
                &json!({"roles": codes, "must_change_password": must_change}),
                now,
            )?;
            tx.commit()?;
            if generated {
                println!("user {username} ({role}) created; one-time password: {password}");
            } else {
                println!(
                    "user {username} ({role}) created with the password of the file{}",
                    if must_change {
                        " (to be changed at the first login)"
                    } else {
                        ""
                    }
                );
            }
        }
        UserCommand::SetRoles { username, roles } => {
            let user = db::people::user_by_name(&tx, &username)?
                .with_context(|| format!("no user {username}"))?;
            let roles = roles.resolve(&tx)?;
            if user.roles.is_province() != roles.is_province()
                || user.roles.comune() != roles.comune()
            {
                bail!(
                    "a Comune user stays a user of its Comune, and Province staff stay Province staff: add a new user instead"
                );
            }
            db::people::set_roles(&tx, user.id, &roles)?;
            let codes: Vec<String> = roles.to_vec().iter().map(ToString::to_string).collect();
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.roles",
                &format!("user:{}", user.id),
                &json!({"roles": codes}),
                now,
            )?;
            tx.commit()?;
            println!("user {username} now holds {roles}");
        }
        UserCommand::Disable { username } => {
            let user = db::people::set_disabled(&tx, &username, true, now)?
                .with_context(|| format!("no user {username}"))?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.disable",
                &format!("user:{}", user.id),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            println!("user {username} disabled; its sessions and tokens are revoked");
        }
        UserCommand::Enable { username } => {
            let user = db::people::set_disabled(&tx, &username, false, now)?
                .with_context(|| format!("no user {username}"))?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.enable",
                &format!("user:{}", user.id),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            println!("user {username} enabled");
        }
        UserCommand::ResetPassword { username, password } => {
            let (password, must_change, generated) = password.resolve(&username)?;
            let hash = secrets::hash_password(&password)
                .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))?;
            let user = db::people::set_password(&tx, &username, &hash, must_change)?
                .with_context(|| format!("no user {username}"))?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.reset_password",
                &format!("user:{}", user.id),
                &json!({"must_change_password": must_change}),
                now,
            )?;
            tx.commit()?;
            if generated {
                println!("new one-time password for {username}: {password}");
            } else {
                println!("password of {username} set from the file; its sessions are ended");
            }
        }
    }
    Ok(())
}

fn token(config: &NodeConfig, command: TokenCommand) -> anyhow::Result<()> {
    let db = open_db(config)?;
    let mut conn = db.get()?;
    let tx = conn.transaction()?;
    let now = db::now();
    match command {
        TokenCommand::Create {
            username,
            name,
            days,
        } => {
            let user = db::people::user_by_name(&tx, &username)?
                .with_context(|| format!("no user {username}"))?;
            let token = secrets::new_api_token();
            let expires = now + i64::from(days.clamp(1, 3650)) * 86_400;
            let id = db::people::insert_token(
                &tx,
                &secrets::sha256_hex(&token),
                user.id,
                &name,
                now,
                expires,
            )?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "token.create",
                &format!("token:{id}"),
                &json!({"user": user.id, "expires_at": db::rfc3339(expires)}),
                now,
            )?;
            tx.commit()?;
            println!(
                "token {id} for {username} ({}), expires {}:",
                user.roles,
                db::rfc3339(expires)
            );
            println!("{token}");
        }
        TokenCommand::Revoke { id } => {
            if !db::people::revoke_token(&tx, id, now)? {
                bail!("no live token with id {id}");
            }
            db::audit::record(
                &tx,
                &Actor::cli(),
                "token.revoke",
                &format!("token:{id}"),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}

/// The Province and signing key of `config`, for a command that signs entries.
pub fn signer(
    config: &NodeConfig,
    conn: &rusqlite::Connection,
) -> anyhow::Result<crate::federation::Signer> {
    let province = db::comuni::province(conn)?
        .context("the database has no Province: it was not created by `pico-node init`")?;
    Ok(crate::federation::Signer {
        province: ProvinceCode::parse(&province.code)?,
        key: SecretKey::load(&config.key_path()).with_context(|| {
            format!(
                "cannot load the signing key {}",
                config.key_path().display()
            )
        })?,
    })
}
