//! `pico-node` command line: parse, then hand over to the library.

/// mimalloc rather than the system allocator: a SUA import checks rows on one thread and
/// writes them on another, which frees what the first allocated; glibc makes that free
/// slow (a million lots from the command line: 9.6–10.5 s with glibc, 8.7–9.0 s with
/// mimalloc, three runs each).
///
/// Its v2 line with transparent huge pages off (`features = ["v2", "no_thp"]` in the
/// workspace): v3 purges freed memory a second later, and only when the thread allocates
/// again, and with huge pages it faults in 2 MiB at a time, so a node kept 53 MiB resident
/// after 1,000 mixed requests; v2 without huge pages keeps 26–28 MiB, at the same throughput
/// (`benches/http_load.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match pico_node::cli::run(pico_node::modules::ALL, std::env::args_os()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("errore: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
