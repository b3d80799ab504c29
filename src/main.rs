//! The `hiddencost` binary: parse arguments, set up logging, run, map errors to exit codes.

use clap::Parser;
use hiddencost::cli::{self, Cli};

fn main() {
    if std::process::id() == 1 {
        // Started by the kernel as init: the unattended boot-to-benchmark run (never returns).
        env_logger::Builder::new()
            .filter_level(log::LevelFilter::Warn)
            .write_style(env_logger::WriteStyle::Never)
            .init();
        hiddencost::init::main();
    }
    let cli = Cli::parse();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, 2) => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    env_logger::Builder::new()
        .filter_level(level)
        .parse_env("HIDDENCOST_LOG")
        .init();
    let code = match cli::dispatch(cli) {
        Ok(code) => code,
        // The reader of stdout went away (`| head`): quiet, with the status a shell gives a
        // tool that SIGPIPE ended (128 + 13).
        Err(e) if cli::is_broken_pipe(&e) => 141,
        Err(e) => {
            eprintln!("Error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
