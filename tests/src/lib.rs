//! Tools for whole-system tests: real `pico-hub` and `pico-node` processes on loopback, and a
//! TCP proxy that injects network faults between them.
//!
//! Nothing here is a mock: the processes are the release binaries, they talk HTTP over real
//! sockets, and the proxy cuts, delays and truncates real connections.

pub mod federation;
pub mod process;
pub mod proxy;
