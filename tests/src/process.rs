//! Real service processes for whole-system tests: start, wait until ready, kill, restart.
//!
//! Each process writes its output to a log file in its data directory, which the test prints
//! when it fails, so a failure in CI can be understood without rerunning it.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The path of a workspace binary built by cargo (`pico-hub`, `pico-node`).
///
/// Integration tests of this crate run after `cargo build` of the workspace binaries; the
/// binaries sit next to the test executable's `deps` directory.
pub fn binary(name: &str) -> Result<PathBuf> {
    let test_exe = std::env::current_exe()?;
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .context("test executable has no target directory")?;
    let path = profile_dir.join(name);
    if !path.exists() {
        bail!(
            "{} is missing: build it first (`cargo build -p {name}`), as `cargo xtask test` does",
            path.display()
        );
    }
    Ok(path)
}

/// The path of a workspace binary built with the given cargo profile directory (`release`,
/// `debug`) in the same target directory as the running executable — benchmarks measure the
/// release binaries whatever profile they were built with themselves.
pub fn binary_for_profile(profile: &str, name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let target_dir = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .context("executable has no target directory")?;
    let path = target_dir.join(profile).join(name);
    if !path.exists() {
        bail!(
            "{} is missing: build it first (`cargo build --{profile} -p {name}`)",
            path.display()
        );
    }
    Ok(path)
}

/// Runs a command to completion and returns its stdout, failing with its stderr.
pub fn run(program: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot start {}", program.display()))?;
    if !output.status.success() {
        bail!(
            "{} {} failed ({}): {}",
            program.display(),
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A service process started by a test.
#[derive(Debug)]
pub struct Service {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
    address: SocketAddr,
    child: Option<Child>,
}

impl Service {
    /// Starts `program args…`, which must listen on `address`, and waits until it accepts
    /// TCP connections and answers `GET /readyz` with 200.
    pub fn start(
        program: &Path,
        args: &[&str],
        address: SocketAddr,
        log: &Path,
    ) -> Result<Service> {
        Service::start_with_env(program, args, &[], address, log)
    }

    /// As [`Service::start`], with extra environment variables (kept for restarts).
    pub fn start_with_env(
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        address: SocketAddr,
        log: &Path,
    ) -> Result<Service> {
        let mut service = Service {
            program: program.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            log: log.to_owned(),
            address,
            child: None,
        };
        service.spawn()?;
        Ok(service)
    }

    fn spawn(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", self.program.display()))?;
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(30))
    }

    /// Polls `GET /readyz` until it answers 200, or fails with the process's log.
    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "{} exited ({status}) while starting:\n{}",
                    self.program.display(),
                    self.log_text()
                );
            }
            if http_status(self.address, "/readyz") == Some(200) {
                // Ready, and this process is the one that answered (not another one that
                // holds the address while this one failed to bind it).
                std::thread::sleep(Duration::from_millis(25));
                if let Some(child) = self.child.as_mut()
                    && let Some(status) = child.try_wait()?
                {
                    bail!(
                        "{} exited ({status}) while starting:\n{}",
                        self.program.display(),
                        self.log_text()
                    );
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        bail!(
            "{} not ready after {limit:?}:\n{}",
            self.program.display(),
            self.log_text()
        )
    }

    /// Base URL of the service.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Kills the process with SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts the process again with the same arguments and data.
    pub fn restart(&mut self) -> Result<()> {
        self.kill()?;
        self.spawn()
    }

    /// Starts the process again after [`Service::kill`] (same as `restart`).
    pub fn start_again(&mut self) -> Result<()> {
        self.restart()
    }

    /// Process id of the running process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Peak resident set size of the running process so far, in KiB (`VmHWM` of
    /// `/proc/<pid>/status`; Linux only). Restarting the process starts it afresh.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Everything the process has written so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    /// Kills the process; when the test is failing (panicking), prints its log to stderr so
    /// that the failure can be understood from the test output alone.
    fn drop(&mut self) {
        let _ = self.kill();
        if std::thread::panicking() {
            eprintln!(
                "----- log of {} {} -----\n{}----- end of log -----",
                self.program.display(),
                self.args.join(" "),
                self.log_text()
            );
        }
    }
}

/// A free loopback address. The port is released before the service binds it, which is racy
/// in theory; services in these tests bind it within milliseconds. The kernel may hand a
/// released port out again, so a port this process already gave out is never returned twice:
/// two services on one address would pass each other's readiness check, and the second one
/// would silently not run (86 nodes made that happen).
pub fn free_address() -> Result<SocketAddr> {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    for _ in 0..1000 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let mut given = GIVEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if given.insert(address.port()) {
            return Ok(address);
        }
    }
    bail!("no loopback port that was not given out already")
}

/// Status code of a plain `GET path` over HTTP/1.1, or None if nothing answered.
pub fn http_status(address: SocketAddr, path: &str) -> Option<u16> {
    use std::io::Write;
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_millis(200)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
