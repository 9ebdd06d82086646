//! The `narval` command: check rule files, and assign streams to profiles.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // Usage errors leave through clap, with exit status 2.
    let args = cli::Args::parse();
    let status = match &args.command {
        cli::Command::Check(options) => cli::check::run(options),
        cli::Command::Assign(options) => cli::assign::run(options),
        cli::Command::Explain(options) => cli::explain::run(options),
        cli::Command::Test(options) => cli::test::run(options),
        cli::Command::Fmt(options) => cli::fmt::run(options),
        cli::Command::Audit(options) => cli::audit::run(options),
    };
    status.into()
}
