//! The `microconv` binary: parse, dispatch, map errors to exit codes
//! (0 ok, 1 run failed, 2 usage, config or query-file error, 128 + n when
//! stopped by signal n) with the cause chain.

use clap::Parser;

fn main() {
    microconv::peak_rss::hand_back_freed_memory();
    let cli = microconv::cli::Cli::parse();
    microconv::cli::progress::init_logging(cli.log_format, cli.command.serves());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(microconv::cli::commands::dispatch(cli));
    // let aborted query tasks go, so DataFusion removes its spill files
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    if let Err(err) = result {
        eprintln!("error: {}", microconv::error::report(&err));
        std::process::exit(err.exit_code());
    }
}
