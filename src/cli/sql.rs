//! `narval sql`: the rule set as one query over a table of profiles, the
//! table's `CREATE TABLE`, or the statements that load profiles into it.

use std::io::{self, BufWriter, Write as _};

use narval::Dialect;

use super::{builder, output_error, print_report, say, SqlArgs, Status};

/// Prints what `args` asks for on standard output.
pub fn run(args: &SqlArgs) -> Status {
    let Some(dialect) = Dialect::from_name(&args.dialect) else {
        let names: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
        say(format_args!("unknown --dialect `{}`: one of {}", args.dialect, names.join(", ")));
        return Status::Usage;
    };
    // The table and its rows do not depend on the date: without one, any
    // date builds the rule set for them.
    let today = match (args.today, args.ddl || args.load.is_some()) {
        (None, true) => narval::Date::from_ymd(1970, 1, 1),
        (today, _) => today,
    };
    let rules = match builder(&args.rules, today, args.import_root.as_deref()).map(narval::Builder::build) {
        Ok(Ok(rules)) => rules,
        Ok(Err(report)) => {
            print_report(&report);
            return Status::RuleErrors;
        }
        Err(status) => return status,
    };
    if let Some(path) = &args.load {
        return load(&rules, dialect, args, path);
    }
    let text = if args.ddl {
        rules.sql_table(dialect, &args.table, &args.id_field)
    } else {
        rules.sql(dialect, &args.table, &args.id_field)
    };
    match text {
        Ok(text) => {
            let mut stdout = super::stdio::stdout();
            match stdout.write_all(text.as_bytes()).and_then(|()| writeln!(stdout)).and_then(|()| stdout.flush()) {
                Ok(()) => Status::Success,
                Err(error) => output_error(&error).err().unwrap_or(Status::Success),
            }
        }
        Err(report) => {
            print_report(&report);
            Status::RuleErrors
        }
    }
}

/// `--load FILE`: `INSERT` statements for the profiles of FILE.
fn load(rules: &narval::RuleSet, dialect: Dialect, args: &SqlArgs, path: &std::path::Path) -> Status {
    let input = match narval::files::open(path, narval::files::Origin::Named) {
        Ok(file) => io::BufReader::new(file),
        Err(error) => {
            say(format_args!("cannot read `{}`: {}", path.display(), narval::files::io_reason(&error)));
            return Status::Usage;
        }
    };
    let output = BufWriter::new(super::stdio::stdout());
    let mut stderr = io::stderr().lock();
    let result = rules.sql_load(dialect, &args.table, &args.id_field, input, output, |rejection| {
        let _ = writeln!(stderr, "narval: line {}: {}", rejection.line, rejection.error);
    });
    match result {
        Ok(summary) => {
            say(format_args!(
                "{} profiles read, {} loaded, {} rejected",
                summary.read, summary.assigned, summary.rejected
            ));
            if summary.rejected > 0 {
                Status::Rejected
            } else {
                Status::Success
            }
        }
        Err(narval::BatchError::Write(error)) => output_error(&error).err().unwrap_or(Status::Success),
        Err(error) => {
            say(error);
            Status::Usage
        }
    }
}
