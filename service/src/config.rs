//! Layered configuration: the struct's `Default`, then a TOML file, then environment
//! variables, with every problem reported in one run (for `check-config`).
//!
//! Environment overrides are named `<PREFIX>_<KEY>`, with `__` between nested keys:
//! `PICO_NODE_LISTEN=0.0.0.0:8080`, `PICO_NODE_HTTP__BODY_LIMIT_BYTES=131072`. Values are read
//! as TOML literals when the default is not a string (`true`, `42`), as text otherwise.
//!
//! Contract for config structs: `Serialize + DeserializeOwned + Default`, with
//! `#[serde(default, deny_unknown_fields)]`, and every field present in the serialised default
//! (no `Option` that defaults to `None`): the default is the map of known keys, so an unknown
//! or misspelt key is reported rather than silently ignored.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Everything wrong with a configuration, one line per problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("problemi di configurazione ({}):\n  - {}", problems.len(), problems.join("\n  - "))]
pub struct ConfigError {
    /// One message per problem, naming the key and where it came from.
    pub problems: Vec<String>,
}

/// Loads `T` from defaults, `file` (if any) and the `env_prefix` variables of `env` (pass
/// `std::env::vars()`; tests pass their own). Variables named in `reserved` (e.g. the one
/// that points at the config file) are not treated as keys.
pub fn load<T>(
    file: Option<&Path>,
    env_prefix: &str,
    reserved: &[&str],
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default,
{
    let mut problems = Vec::new();
    let defaults = match toml::Value::try_from(T::default()) {
        Ok(toml::Value::Table(table)) => table,
        _ => toml::Table::new(),
    };
    let mut merged = defaults.clone();

    if let Some(path) = file {
        match std::fs::read_to_string(path) {
            Err(err) => problems.push(format!("impossibile leggere {}: {err}", path.display())),
            Ok(text) => match text.parse::<toml::Table>() {
                Err(err) => problems.push(format!(
                    "{} non è un file TOML valido: {}",
                    path.display(),
                    err.message()
                )),
                Ok(table) => {
                    check_known(
                        &table,
                        &defaults,
                        "",
                        &format!("in {}", path.display()),
                        &mut problems,
                    );
                    merge(&mut merged, table);
                }
            },
        }
    }

    let prefix = format!("{env_prefix}_");
    for (name, raw) in env {
        if reserved.contains(&name.as_str()) {
            continue;
        }
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        match lookup(&defaults, &path) {
            None => problems.push(format!(
                "la variabile d'ambiente {name} non corrisponde ad alcuna chiave di configurazione"
            )),
            Some(default) => {
                let value = if default.is_str() {
                    toml::Value::String(raw)
                } else {
                    match format!("v = {raw}").parse::<toml::Table>() {
                        Ok(mut table) => table.remove("v").unwrap_or(toml::Value::String(raw)),
                        Err(_) => toml::Value::String(raw),
                    }
                };
                set(&mut merged, &path, value);
            }
        }
    }

    match toml::Value::Table(merged.clone()).try_into::<T>() {
        Ok(config) if problems.is_empty() => Ok(config),
        Ok(_) => Err(ConfigError { problems }),
        Err(_) => {
            // serde stops at the first error; try each top-level key alone over the defaults
            // so that every wrong value is named in this one run.
            for (key, value) in merged {
                if !defaults.contains_key(&key) {
                    continue; // already reported as unknown
                }
                let mut single = defaults.clone();
                single.insert(key.clone(), value);
                if let Err(err) = toml::Value::Table(single).try_into::<T>() {
                    problems.push(format!("{key}: {}", err.message().trim()));
                }
            }
            if problems.is_empty() {
                problems.push("la configurazione non è leggibile".to_owned());
            }
            Err(ConfigError { problems })
        }
    }
}

fn check_known(
    table: &toml::Table,
    known: &toml::Table,
    prefix: &str,
    origin: &str,
    problems: &mut Vec<String>,
) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (known.get(key), value) {
            (None, _) => problems.push(format!("chiave sconosciuta `{full}` {origin}")),
            (Some(toml::Value::Table(known_sub)), toml::Value::Table(sub)) => {
                check_known(sub, known_sub, &full, origin, problems);
            }
            _ => {}
        }
    }
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_sub)), toml::Value::Table(over_sub)) => {
                merge(base_sub, over_sub);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn lookup<'a>(table: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let value = table.get(first)?;
    if rest.is_empty() {
        return Some(value);
    }
    lookup(value.as_table()?, rest)
}

fn set(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        table.insert(first.clone(), value);
    } else if let Some(toml::Value::Table(sub)) = table.get_mut(first) {
        set(sub, rest, value);
    }
}

/// A secret configuration value (a token, a password): hidden from `Debug` and `Display`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no secret was configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Sample {
        listen: String,
        workers: u32,
        token: Secret,
        http: crate::http::HttpSettings,
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn layers_defaults_file_and_env() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1\"\nworkers = 3\n[http]\nrate_limit_burst = 7\n",
        )
        .expect("write");
        let config: Sample = load(
            Some(&file),
            "PICO_T",
            &["PICO_T_CONFIG"],
            env(&[
                ("PICO_T_WORKERS", "9"),
                ("PICO_T_HTTP__TRUST_FORWARDED_FOR", "true"),
                ("PICO_T_CONFIG", "x"),
            ]),
        )
        .expect("loads");
        assert_eq!(config.listen, "127.0.0.1:1");
        assert_eq!(config.workers, 9);
        assert_eq!(config.http.rate_limit_burst, 7);
        assert!(config.http.trust_forwarded_for);
        assert_eq!(
            config.http.body_limit_bytes,
            crate::http::HttpSettings::default().body_limit_bytes
        );
    }

    #[test]
    fn reports_every_problem_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "lisen = \"x\"\nworkers = \"many\"\n[http]\nrate_limit_burst = \"lots\"\n",
        )
        .expect("write");
        let err = load::<Sample>(Some(&file), "PICO_T", &[], env(&[("PICO_T_NOPE", "1")]))
            .expect_err("refused");
        let all = err.problems.join("\n");
        assert!(all.contains("chiave sconosciuta `lisen`"), "{all}");
        assert!(all.contains("PICO_T_NOPE"), "{all}");
        assert!(all.contains("workers"), "{all}");
        assert!(all.contains("http"), "{all}");
        assert_eq!(err.problems.len(), 4, "{all}");
    }

    #[test]
    fn secrets_do_not_debug() {
        let text = format!("{:?}", Secret::new("hunter2"));
        assert!(!text.contains("hunter2"));
    }
}
