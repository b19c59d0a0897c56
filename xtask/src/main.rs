//! Project tasks behind the README's two commands.
//!
//! - `cargo xtask run`: the main job (from the federation issue on, the local federation).
//! - `cargo xtask test`: installs what the tests need on a fresh machine, then runs them all.
//!
//! Kept in Rust so that the only prerequisite on a Province's or a developer's machine is cargo.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n  run    start the main job\n  test   install test prerequisites and run the whole test suite"
            );
            std::process::exit(2);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn status(mut command: Command, what: &str) -> Result<()> {
    eprintln!("xtask: {what}");
    let status = command.status().with_context(|| format!("could not start: {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// The main job. Until the federation issue lands, it builds the services and shows how to
/// drive them.
fn run(_args: &[String]) -> Result<()> {
    let mut build = cargo();
    build.args(["build", "--release", "-p", "pico-node", "-p", "pico-hub"]);
    status(build, "build the node and hub (release)")?;
    for binary in ["pico-hub", "pico-node"] {
        let path = workspace_root().join("target/release").join(binary);
        let mut help = Command::new(&path);
        help.arg("--help");
        status(help, &format!("{binary} --help"))?;
    }
    Ok(())
}

/// The whole test suite, with its prerequisites installed when missing.
fn test(extra: &[String]) -> Result<()> {
    ensure_python_module("jwcrypto", "jwcrypto==1.5.6")?;

    let mut tests = cargo();
    tests.args(["test", "--workspace", "--all-features"]).args(extra);
    status(tests, "cargo test --workspace")?;

    // Interoperability: the protocol's test vectors must verify with an independent JOSE
    // implementation in another language.
    let mut interop = Command::new("python3");
    interop
        .current_dir(workspace_root())
        .args(["protocol/interop/verify_with_jwcrypto.py", "protocol/vectors/entries.json"]);
    status(interop, "verify the entry vectors with Python jwcrypto")?;
    Ok(())
}

fn ensure_python_module(module: &str, requirement: &str) -> Result<()> {
    let present = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|out| out.status.success())
        .context("python3 is needed for the interoperability test; install it (apt-get install python3 python3-pip)")?;
    if present {
        return Ok(());
    }
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement]);
    status(pip, &format!("install {requirement} from PyPI"))
}
