//! The hand-written campaign-2012 baseline as a command, for
//! `benches/compare.sh`: NDJSON profiles in, the same NDJSON assignments as
//! `narval assign` out.
//!
//!     cargo run --release --example baseline -- PROFILES OUT
//!
//! Rejected lines are counted and reported on stderr, as narval does; the
//! exit status is 3 when there are any.

#[path = "../benches/baseline/mod.rs"]
mod baseline;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(input), Some(output), None) = (args.next(), args.next(), args.next()) else {
        return Err("usage: baseline PROFILES OUT".into());
    };
    let mut input = BufReader::new(File::open(input)?);
    let mut output = BufWriter::new(File::create(output)?);
    let (mut line, mut record) = (String::new(), Vec::new());
    let (mut read, mut rejected) = (0_usize, 0_usize);
    while input.read_line(&mut line)? > 0 {
        read += 1;
        record.clear();
        match baseline::parse(line.trim_end()) {
            Ok(profile) => baseline::write_record(&mut record, profile.id, baseline::assign(&profile))?,
            Err(error) => {
                // The position only: serde's message may quote a person's value.
                eprintln!("baseline: line {read}: rejected at column {}", error.column());
                rejected += 1;
            }
        }
        output.write_all(&record)?;
        line.clear();
    }
    output.flush()?;
    eprintln!("baseline: {read} profiles read, {} assigned, {rejected} rejected", read - rejected);
    Ok(if rejected > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}
