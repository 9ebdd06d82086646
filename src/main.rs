//! The `narval` command: check rule files, and assign streams to profiles.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

/// Stack of the thread that runs a command. The syntax limits bound how deep
/// one expression nests (64 levels, 256 operators), but a walk that follows
/// definitions goes through up to 32 of them, one inside the other: on the
/// main thread's 8 MiB that overflows in a debug build. The memory is only
/// reserved; pages are used as the walks reach them.
const STACK_BYTES: usize = 256 * 1024 * 1024;

fn main() -> ExitCode {
    // Usage errors leave through clap, with exit status 2.
    let args = cli::Args::parse();
    let status = match std::thread::Builder::new()
        .name(String::from("narval"))
        .stack_size(STACK_BYTES)
        .spawn(move || run(&args))
    {
        Ok(worker) => worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(error) => {
            eprintln!("narval: cannot start: {error}");
            return ExitCode::from(2);
        }
    };
    status.into()
}

fn run(args: &cli::Args) -> cli::Status {
    match &args.command {
        cli::Command::Check(options) => cli::check::run(options),
        cli::Command::Assign(options) => cli::assign::run(options),
        cli::Command::Explain(options) => cli::explain::run(options),
        cli::Command::Test(options) => cli::test::run(options),
        cli::Command::Fmt(options) => cli::fmt::run(options),
        cli::Command::Audit(options) => cli::audit::run(options),
        cli::Command::Sql(options) => cli::sql::run(options),
    }
}
