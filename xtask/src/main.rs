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
    let status = command
        .status()
        .with_context(|| format!("could not start: {what}"))?;
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
    let python = python_with("jwcrypto==1.5.6")?;
    ensure_chromium()?;

    let mut tests = cargo();
    tests.args(["test", "--workspace"]).args(extra);
    status(tests, "cargo test --workspace")?;

    // Interoperability: the protocol's test vectors must verify with an independent JOSE
    // implementation in another language.
    let mut interop = Command::new(python);
    interop.current_dir(workspace_root()).args([
        "protocol/interop/verify_with_jwcrypto.py",
        "protocol/vectors/entries.json",
    ]);
    status(interop, "verify the entry vectors with Python jwcrypto")?;
    Ok(())
}

/// A Python interpreter with `requirement` installed, in a virtual environment under
/// `target/` so that nothing is installed into the system's Python.
fn python_with(requirement: &str) -> Result<PathBuf> {
    let venv = workspace_root().join("target/interop-venv");
    let python = venv.join("bin/python3");
    let module = requirement.split("==").next().unwrap_or(requirement);
    let ready = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|out| out.status.success());
    if ready {
        return Ok(python);
    }
    let mut create = Command::new("python3");
    create.args(["-m", "venv"]).arg(&venv);
    status(
        create,
        "create a Python virtual environment in target/interop-venv (needs python3 and python3-venv)",
    )?;
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        requirement,
    ]);
    status(pip, &format!("install {requirement} from PyPI"))?;
    Ok(python)
}

/// Debian's Chromium and ChromeDriver, for the browser tests of the web pages.
fn ensure_chromium() -> Result<()> {
    let present = |binary: &str| Path::new("/usr/bin").join(binary).exists();
    if present("chromium") && present("chromedriver") {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0"));
    if !is_root {
        bail!(
            "the browser tests need Chromium and ChromeDriver: run `sudo apt-get install chromium chromium-driver`, then `cargo xtask test` again"
        );
    }
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    status(update, "apt-get update")?;
    let mut install = Command::new("apt-get");
    install.env("DEBIAN_FRONTEND", "noninteractive").args([
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "chromium",
        "chromium-driver",
    ]);
    status(install, "install Debian's chromium and chromium-driver")
}
