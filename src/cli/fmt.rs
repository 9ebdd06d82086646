//! `narval fmt`: rewrite rule files in the canonical layout of
//! [`narval::format`], print them formatted, or check that they are.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;

use super::{io_reason, output_error, plural, print_report, say, FmtArgs, Status};

/// The most cells the line diff's table may have; larger differences are
/// shown as one region.
const MAX_DIFF_CELLS: usize = 4_000_000;

/// Formats every file, then reports: a file that cannot be read or written
/// outranks one that does not parse, which outranks one not formatted.
pub fn run(args: &FmtArgs) -> Status {
    let mut failures: Vec<Status> = Vec::new();
    let (mut changed, mut unchanged) = (0usize, 0usize);
    for path in &args.files {
        let stdin = path.as_os_str() == "-";
        let name = if stdin { String::from("<stdin>") } else { path.display().to_string() };
        let (text, bom) = match read(path) {
            Ok(read) => read,
            Err(error) => {
                say(format_args!("cannot read `{name}`: {}", io_reason(&error)));
                failures.push(Status::Usage);
                continue;
            }
        };
        // The layout is made with LF line ends, then written with the
        // file's own (see `Ending`), after its byte order mark if it had one.
        let lf = narval::files::to_lf(&text);
        let ending = Ending::of(&text);
        let formatted = match narval::format_file(&name, &lf) {
            Ok(formatted) => formatted,
            Err(report) => {
                print_report(&report);
                failures.push(Status::RuleErrors);
                continue;
            }
        };
        let layout = formatted;
        let mark = if bom { narval::files::BOM } else { "" };
        let formatted = format!("{mark}{}", ending.write(&layout));
        let same = formatted.strip_prefix(mark) == Some(text.as_str());
        if same {
            unchanged += 1;
        } else {
            changed += 1;
        }
        let written = if args.check {
            if same {
                Ok(())
            } else if layout != *lf {
                write_stdout(&diff(&name, &lf, &layout))
            } else {
                // Only the line ends differ: one line says so, rather than
                // every line listed as changed.
                write_stdout(&format!("--- {name}: mixed line ends, to be written as {} throughout\n", ending.name()))
            }
        } else if args.stdout || stdin {
            write_stdout(&formatted)
        } else if same {
            Ok(())
        } else {
            rewrite(path, &formatted).inspect_err(|error| {
                say(format_args!("cannot write `{name}`: {}", io_reason(error)));
            })
        };
        if written.is_err() {
            failures.push(Status::Output);
        }
    }
    // Standard output holds the text with `--stdout` and `-`; the summary
    // would only repeat what the statuses say.
    let quiet = args.stdout || args.files.iter().any(|p| p.as_os_str() == "-");
    if args.check && changed > 0 {
        let verb = if changed == 1 { "is" } else { "are" };
        say(format_args!("{} {verb} not formatted", plural(changed, "file")));
        failures.push(Status::Unformatted);
    } else if !quiet && changed + unchanged > 0 && !failures.contains(&Status::Output) {
        if args.check {
            say(format_args!("ok, {} formatted", plural(unchanged, "file")));
        } else {
            say(format_args!("{} reformatted, {} already formatted", plural(changed, "file"), unchanged));
        }
    }
    [Status::Usage, Status::Output, Status::RuleErrors, Status::Unformatted]
        .into_iter()
        .find(|status| failures.contains(status))
        .unwrap_or(Status::Success)
}

/// The text of a rule file (`-`: standard input) and whether it started
/// with a byte order mark, which is kept.
fn read(path: &Path) -> io::Result<(String, bool)> {
    super::read_input_marked(path, narval::Builder::MAX_FILE_BYTES as u64)
}

/// The line end a file is written with: the one its first line ends with
/// (LF for a file of one line), so that a CRLF file stays CRLF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Lf,
    CrLf,
    Cr,
}

impl Ending {
    fn of(text: &str) -> Ending {
        match text.find(['\n', '\r']).and_then(|i| text.as_bytes().get(i..)) {
            Some([b'\r', b'\n', ..]) => Ending::CrLf,
            Some([b'\r', ..]) => Ending::Cr,
            _ => Ending::Lf,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ending::Lf => "LF",
            Ending::CrLf => "CRLF",
            Ending::Cr => "CR",
        }
    }

    /// `text`, whose line ends are LF, with this line end.
    fn write(self, text: &str) -> String {
        match self {
            Ending::Lf => text.to_string(),
            Ending::CrLf => text.replace('\n', "\r\n"),
            Ending::Cr => text.replace('\n', "\r"),
        }
    }
}

fn write_stdout(text: &str) -> io::Result<()> {
    let mut stdout = super::stdio::stdout();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) => output_error(&error).map_err(|_| error),
    }
}

/// Replaces a file's text all at once: the new text goes to a temporary file
/// beside it, which is then renamed over it, so that no reader ever sees
/// half a file. Through a symbolic link, the file linked to is replaced.
fn rewrite(path: &Path, text: &str) -> io::Result<()> {
    let target = fs::canonicalize(path)?;
    let meta = fs::metadata(&target)?;
    if !meta.is_file() {
        // Renaming over a device or a pipe would replace it.
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file; use --stdout"));
    }
    let permissions = meta.permissions();
    let file_name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // `.FILE.fmt-PID.tmp`, cut to fit a file name as `assign --out` cuts its own.
    let prefix = super::assign::short_temp_prefix(&file_name, "fmt");
    let temp = target.with_file_name(format!("{prefix}{}.tmp", std::process::id()));
    // A file left with this run's own PID belongs to no live run (a
    // restarted container reuses PIDs): it would make `create_new` fail.
    if fs::symlink_metadata(&temp).is_ok_and(|meta| meta.is_file()) {
        let _ = fs::remove_file(&temp);
    }
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::set_permissions(&temp, permissions)?;
        fs::rename(&temp, &target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// One step of a line diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Keep,
    Remove,
    Add,
}

/// The lines that differ, region by region: `--- name:LINE` (a line of the
/// old text), then the old lines as `-line` and the new ones as `+line`.
fn diff(name: &str, old: &str, new: &str) -> String {
    let old: Vec<&str> = old.split_inclusive('\n').collect();
    let new: Vec<&str> = new.split_inclusive('\n').collect();
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    let steps = steps(&old, &new);
    let mut k = 0;
    while let Some(&step) = steps.get(k) {
        if step == Step::Keep {
            i += 1;
            j += 1;
            k += 1;
            continue;
        }
        out.push_str(&format!("--- {name}:{}\n", i + 1));
        let (mut removed, mut added) = (String::new(), String::new());
        while let Some(&step) = steps.get(k).filter(|&&s| s != Step::Keep) {
            if step == Step::Remove {
                removed.push_str(&format!("-{}\n", show(old.get(i))));
                i += 1;
            } else {
                added.push_str(&format!("+{}\n", show(new.get(j))));
                j += 1;
            }
            k += 1;
        }
        out.push_str(&removed);
        out.push_str(&added);
    }
    out
}

fn show(line: Option<&&str>) -> String {
    line.map_or("", |l| l.trim_end_matches('\n').trim_end_matches('\r')).to_string()
}

/// A shortest edit script from `old` to `new` by longest common
/// subsequence, after the common head and tail are set aside.
fn steps(old: &[&str], new: &[&str]) -> Vec<Step> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let (old_rest, new_rest) = (old.get(head..).unwrap_or(&[]), new.get(head..).unwrap_or(&[]));
    let tail = old_rest.iter().rev().zip(new_rest.iter().rev()).take_while(|(a, b)| a == b).count();
    let a = old_rest.get(..old_rest.len() - tail).unwrap_or(&[]);
    let b = new_rest.get(..new_rest.len() - tail).unwrap_or(&[]);
    let mut steps = vec![Step::Keep; head];
    let (n, m) = (a.len(), b.len());
    if (n + 1).saturating_mul(m + 1) > MAX_DIFF_CELLS {
        steps.extend(std::iter::repeat(Step::Remove).take(n));
        steps.extend(std::iter::repeat(Step::Add).take(m));
    } else {
        // lcs[i * (m + 1) + j]: the longest common subsequence of a[i..] and b[j..].
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        let at = |i: usize, j: usize| i * (m + 1) + j;
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                let value = if a.get(i) == b.get(j) {
                    lcs.get(at(i + 1, j + 1)).map_or(0, |v| v + 1)
                } else {
                    let down = lcs.get(at(i + 1, j)).copied().unwrap_or(0);
                    let right = lcs.get(at(i, j + 1)).copied().unwrap_or(0);
                    down.max(right)
                };
                if let Some(cell) = lcs.get_mut(at(i, j)) {
                    *cell = value;
                }
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            let cell = |i, j| lcs.get(at(i, j)).copied().unwrap_or(0);
            if i < n && j < m && a.get(i) == b.get(j) {
                steps.push(Step::Keep);
                i += 1;
                j += 1;
            } else if j < m && (i == n || cell(i, j + 1) >= cell(i + 1, j)) {
                steps.push(Step::Add);
                j += 1;
            } else {
                steps.push(Step::Remove);
                i += 1;
            }
        }
    }
    steps.extend(std::iter::repeat(Step::Keep).take(tail));
    steps
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{diff, rewrite};

    /// A restarted container reuses process ids: a temporary file left
    /// with this run's own id must not block the rewrite.
    #[test]
    fn a_leftover_temporary_file_with_this_runs_own_pid_does_not_block_a_rewrite() {
        let dir = std::env::temp_dir().join(format!("narval-fmt-own-pid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("r.narval");
        std::fs::write(&target, "old").unwrap();
        let own = dir.join(format!(".r.narval.fmt-{}.tmp", std::process::id()));
        std::fs::write(&own, "left").unwrap();
        rewrite(&target, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert!(!own.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn diff_shows_each_changed_region_with_its_old_line() {
        let old = "a\nb  \nc\nd\ne\n";
        let new = "a\nb\nc\nd\ne\nf\n";
        assert_eq!(diff("r.narval", old, new), "--- r.narval:2\n-b  \n+b\n--- r.narval:6\n+f\n");
    }

    #[test]
    fn diff_of_equal_texts_is_empty() {
        assert_eq!(diff("r.narval", "a\nb\n", "a\nb\n"), "");
    }

    #[test]
    fn diff_puts_removals_before_additions() {
        assert_eq!(diff("x", "a\nb\nc\n", "a\nB\nC\n"), "--- x:2\n-b\n-c\n+B\n+C\n");
    }
}
