//! The project's own campaign-2012 profiles as a command, for
//! `benches/compare.sh` and `.ci/crosscheck.sh`: the generator of
//! `benches/workload/generate.rs`, which the tests use, one JSON object a
//! line on stdout.
//!
//!     cargo run --release --example gen_profiles -- --n 100000 --seed 2012 [--dirty]
//!
//! The same arguments always give the same bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/workload/generate.rs"]
mod generate;

use std::io::{BufWriter, Write};

const USAGE: &str = "usage: gen_profiles [--n N] [--seed S] [--dirty]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut n, mut seed, mut dirty) = (10_000_usize, 2012_u64, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--n" => n = args.next().ok_or(USAGE)?.parse()?,
            "--seed" => seed = args.next().ok_or(USAGE)?.parse()?,
            "--dirty" => dirty = true,
            _ => return Err(format!("unknown argument `{arg}`\n{USAGE}").into()),
        }
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in generate::lines(n, seed, dirty) {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}
