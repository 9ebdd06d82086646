//! The NDJSON batch pipeline of the library (`RuleSet::assign_ndjson`, what
//! `narval assign` calls), on profiles of the project's own generator
//! (`benches/workload/generate.rs`): every line assigned or rejected, the
//! rejections in line order, the output the same for every thread count and
//! the same as `assign_json` gives line by line, the `max_errors` stop, the
//! line limit, and failures that are errors, never a silent success.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/workload/mod.rs"]
mod workload;

use std::io::{self, BufRead, Read as _, Write};
use std::sync::OnceLock;

use narval::eval::batch::{AssignOptions, BatchError, LineError, Summary, BATCH_LINES, MAX_LINE_BYTES};
use narval::{ProfileError, RuleSet};
use workload::generate;

/// The campaign-2012 rule set, built once (with native code by default).
fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(workload::campaign)
}

/// A rejection as kept: its line, its reason and its text.
type Rejected = (usize, LineError, Option<Vec<u8>>);

/// What a run gave: the output, each rejection, and the summary.
#[derive(Debug, PartialEq)]
struct Run {
    output: Vec<u8>,
    rejections: Vec<Rejected>,
    summary: Summary,
}

fn run_on(rules: &RuleSet, input: &mut dyn BufRead, options: &AssignOptions) -> Result<Run, BatchError> {
    let mut output = Vec::new();
    let mut rejections = Vec::new();
    let summary = rules.assign_ndjson(
        input,
        &mut output,
        &mut |r| {
            rejections.push((r.line, r.error, r.text.map(<[u8]>::to_vec)));
            Ok(())
        },
        options,
    )?;
    Ok(Run { output, rejections, summary })
}

fn run(input: &[u8], options: &AssignOptions) -> Run {
    run_on(rules(), &mut &input[..], options).unwrap_or_else(|e| panic!("{e}"))
}

fn threads(threads: usize) -> AssignOptions {
    AssignOptions { threads, ..AssignOptions::default() }
}

/// Lines as NDJSON: each one ended by a newline.
fn ndjson<S: AsRef<str>>(lines: &[S]) -> Vec<u8> {
    lines.iter().flat_map(|l| format!("{}\n", l.as_ref()).into_bytes()).collect()
}

/// What one line should give, found without the pipeline: its output line
/// (`decode_line` for the id as written, `assign_json` for the streams),
/// or why it is rejected.
fn expected_line(line: &str) -> Result<String, ProfileError> {
    let (_, id) = rules().decode_line(line, "id")?;
    let assignment = rules().assign_json(line)?;
    let list = |streams: &[&str]| serde_json::to_string(streams).unwrap();
    Ok(format!(
        "{{\"id\":{id},\"solicitations\":{},\"issues\":{}}}\n",
        list(&assignment.solicitations),
        list(&assignment.issues)
    ))
}

/// The output and the rejections (without text) `lines` should give.
fn expected(lines: &[String]) -> (Vec<u8>, Vec<Rejected>) {
    let (mut output, mut rejections) = (Vec::new(), Vec::new());
    for (index, line) in lines.iter().enumerate() {
        match expected_line(line) {
            Ok(out) => output.extend_from_slice(out.as_bytes()),
            Err(error) => rejections.push((index + 1, LineError::Profile(error), None)),
        }
    }
    (output, rejections)
}

/// Generated profiles, dirty (about one in ten misses a field, most of them
/// rejected), with lines no decoder takes put in at known places.
fn dirty_lines(n: usize, seed: u64) -> Vec<String> {
    let mut lines: Vec<String> = generate::lines(n, seed, true).collect();
    for (at, bad) in [(0, "not json"), (300, ""), (301, r#"{"age": 40}"#), (n / 2, "[1, 2]"), (n - 1, "{")] {
        lines[at] = bad.to_string();
    }
    lines
}

#[test]
fn every_line_is_assigned_or_rejected_and_the_rejections_come_in_line_order() {
    let lines = dirty_lines(3_000, 14);
    let (output, rejections) = expected(&lines);
    assert!(rejections.len() > 50, "{} rejections", rejections.len());
    let got = run(&ndjson(&lines), &threads(3));
    assert_eq!(
        got.summary,
        Summary { read: 3_000, assigned: 3_000 - rejections.len(), rejected: rejections.len(), stopped: false }
    );
    assert_eq!(got.summary.read, got.summary.assigned + got.summary.rejected);
    assert_eq!(got.rejections, rejections);
    assert!(got.rejections.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(String::from_utf8(got.output).unwrap(), String::from_utf8(output).unwrap());
}

#[test]
fn the_output_is_the_same_for_one_two_and_seven_threads_across_batches() {
    // More than a batch, so that the second batch is read while the first
    // is assigned, and a last batch that is not full.
    let n = BATCH_LINES + 3_000;
    let lines = dirty_lines(n, 7);
    let input = ndjson(&lines);
    let (output, rejections) = expected(&lines);
    let one = run(&input, &threads(1));
    assert_eq!(one.rejections, rejections);
    assert!(one.output == output, "one thread differs from assign_json");
    for n in [2, 7] {
        assert!(run(&input, &threads(n)) == one, "{n} threads differ from one");
    }
}

#[test]
fn max_errors_stops_after_the_batch_that_crosses_it_whatever_the_threads() {
    // Clean profiles with a line that is not JSON every 1,000 lines: 17 in
    // the first batch, 40 in all.
    let n = 2 * BATCH_LINES + 7_232;
    let mut lines: Vec<String> = generate::lines(n, 3, false).collect();
    for line in lines.iter_mut().step_by(1_000) {
        *line = String::from("not json");
    }
    let input = ndjson(&lines);
    // Each batch ends at its line count, not at its 8 MiB.
    assert!(lines.chunks(BATCH_LINES).all(|batch| batch.iter().map(|l| l.len() + 1).sum::<usize>() < 8 << 20));
    let first_batch = lines.iter().take(BATCH_LINES).filter(|l| *l == "not json").count();
    let total = n.div_ceil(1_000);
    assert_eq!((first_batch, total), (17, 40));
    let with = |threads: usize, max_errors: usize| AssignOptions {
        threads,
        max_errors: Some(max_errors),
        ..Default::default()
    };
    let (output, _) = expected(&lines[..BATCH_LINES]);
    for threads in [1, 2, 7] {
        let stopped = run(&input, &with(threads, 10));
        let summary = Summary { read: BATCH_LINES, assigned: BATCH_LINES - 17, rejected: 17, stopped: true };
        assert_eq!(stopped.summary, summary, "{threads} threads");
        assert_eq!(stopped.rejections.len(), 17);
        assert!(stopped.output == output, "{threads} threads: the first batch's output");
        // Not more than the limit: the run goes to the end.
        let at_limit = run(&input, &with(threads, total));
        assert_eq!(at_limit.summary, Summary { read: n, assigned: n - total, rejected: total, stopped: false });
        // One more than the limit in the last batch: every line is read, and
        // the run still stops.
        let over = run(&input, &with(threads, total - 1));
        assert_eq!(over.summary, Summary { read: n, assigned: n - total, rejected: total, stopped: true });
    }
}

/// A writer that takes `room` bytes, then fails; or, with `room` `None`,
/// takes everything and fails when flushed.
struct Failing {
    room: Option<usize>,
    kind: io::ErrorKind,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.room {
            None => Ok(buf.len()),
            Some(0) => Err(io::Error::new(self.kind, "no room")),
            Some(room) => {
                let taken = buf.len().min(*room);
                *room -= taken;
                Ok(taken)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.room {
            None => Err(io::Error::new(self.kind, "cannot flush")),
            Some(_) => Ok(()),
        }
    }
}

#[test]
fn an_output_that_fails_is_an_error_not_a_silent_success() {
    let input = ndjson(&generate::lines(2_000, 5, false).collect::<Vec<_>>());
    for threads in [1, 4] {
        for (room, kind) in [
            (Some(0), io::ErrorKind::Other),
            (Some(1_000), io::ErrorKind::BrokenPipe),
            (Some(50_000), io::ErrorKind::Other),
            (None, io::ErrorKind::Other),
        ] {
            let mut output = Failing { room, kind };
            let result = rules().assign_ndjson(&mut &input[..], &mut output, &mut |_| Ok(()), &self::threads(threads));
            match result {
                Err(BatchError::Write(error)) => assert_eq!(error.kind(), kind, "{threads} threads, room {room:?}"),
                other => panic!("{threads} threads, room {room:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_rejections_callback_that_fails_stops_the_run() {
    let input = ndjson(&dirty_lines(1_000, 9));
    for threads in [1, 3] {
        let mut calls = 0;
        let result = rules().assign_ndjson(
            &mut &input[..],
            &mut Vec::new(),
            &mut |_| {
                calls += 1;
                Err(io::Error::other("the errors file is full"))
            },
            &self::threads(threads),
        );
        assert!(matches!(result, Err(BatchError::Write(_))), "{result:?}");
        assert_eq!(calls, 1);
    }
}

#[test]
fn a_line_over_the_limit_is_rejected_and_the_run_goes_on() {
    let lines: Vec<String> = generate::lines(4, 11, false).collect();
    // JSON may end in spaces: a profile padded to the limit is still one.
    let pad = |line: &str, length: usize| format!("{line}{}", " ".repeat(length - line.len()));
    let input = ndjson(&[
        lines[0].clone(),
        pad(&lines[1], MAX_LINE_BYTES),
        pad(&lines[2], MAX_LINE_BYTES + 1),
        lines[3].clone(),
    ]);
    for threads in [1, 2] {
        let options = AssignOptions { threads, rejected_text: true, ..Default::default() };
        let got = run(&input, &options);
        // The line over the limit is not kept: its text is empty.
        assert_eq!(got.rejections, [(3, LineError::Profile(ProfileError::TooLong), Some(Vec::new()))]);
        assert_eq!(got.summary, Summary { read: 4, assigned: 3, rejected: 1, stopped: false });
        let expected: String = [&lines[0], &lines[1], &lines[3]].iter().map(|l| expected_line(l).unwrap()).collect();
        assert_eq!(String::from_utf8(got.output).unwrap(), expected);
    }
}

#[test]
fn an_input_with_no_line_end_stops_the_run_at_its_line() {
    let first = format!("{}\n", generate::lines(1, 1, false).next().unwrap());
    let endless = io::BufReader::with_capacity(1 << 20, io::repeat(b' '));
    let mut input = io::BufReader::new(first.as_bytes().chain(endless));
    match run_on(rules(), &mut input, &threads(1)) {
        Err(BatchError::Read { line, error }) => {
            assert_eq!(line, 2);
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
            assert_eq!(error.to_string(), "no line end in its first 256 MiB");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_repeated_id_is_rejected_with_the_line_of_the_first_when_asked() {
    // Ids 1 to 1,000, then 1 to 300 again: duplicates across pieces and
    // threads.
    let mut lines: Vec<String> = generate::lines(1_000, 21, false).collect();
    lines.extend(generate::lines(300, 22, false));
    let input = ndjson(&lines);
    let (output, _) = expected(&lines[..1_000]);
    for threads in [1, 3] {
        let got = run(&input, &AssignOptions { threads, unique_ids: true, ..Default::default() });
        let duplicates: Vec<_> = (1..=300).map(|id| (1_000 + id, LineError::DuplicateId(id), None)).collect();
        assert_eq!(got.rejections, duplicates);
        assert_eq!(got.summary, Summary { read: 1_300, assigned: 1_000, rejected: 300, stopped: false });
        assert!(got.output == output);
        // Without the option, every line is assigned.
        let all = run(&input, &self::threads(threads));
        assert_eq!(all.summary, Summary { read: 1_300, assigned: 1_300, rejected: 0, stopped: false });
    }
}

#[test]
fn a_rejection_names_the_field_not_the_value_and_holds_the_text_only_when_asked() {
    let rules = RuleSet::builder()
        .source(
            "r.narval",
            "narval 1\nschema { age: int }\nsolicitation streams young\nissue streams jobs\nr: age < 30 -> young\n",
        )
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()));
    let line = r#"{"id": 1, "age": "private-42"}"#;
    let input = ndjson(&[line]);
    let plain = run_on(&rules, &mut &input[..], &AssignOptions::default()).unwrap();
    let [(1, error, None)] = &plain.rejections[..] else { panic!("{:?}", plain.rejections) };
    assert_eq!(error.to_string(), "field `age` should be int, found a string");
    let options = AssignOptions { rejected_text: true, ..Default::default() };
    let kept = run_on(&rules, &mut &input[..], &options).unwrap();
    assert_eq!(kept.rejections[0].2.as_deref(), Some(line.as_bytes()));
}

#[test]
fn the_id_field_starts_each_output_line_as_written() {
    let rules = RuleSet::builder()
        .source(
            "r.narval",
            "narval 1\nschema { age: int }\nsolicitation streams young\nissue streams jobs\nr: age < 30 -> young\n",
        )
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()));
    let input = ndjson(&[r#"{"key": "a\u0062", "age": 20}"#, r#"{"key": 1.50, "age": 40}"#, r#"{"id": 3, "age": 1}"#]);
    let options = AssignOptions { id_field: String::from("key"), ..Default::default() };
    let got = run_on(&rules, &mut &input[..], &options).unwrap();
    assert_eq!(
        String::from_utf8(got.output).unwrap(),
        "{\"id\":\"a\\u0062\",\"solicitations\":[\"young\"],\"issues\":[]}\n{\"id\":1.50,\"solicitations\":[],\"issues\":[]}\n"
    );
    let missing = LineError::Profile(ProfileError::MissingId { field: String::from("key") });
    assert_eq!(got.rejections, [(3, missing, None)]);
}

#[test]
fn a_byte_order_mark_is_skipped_and_utf16_is_refused() {
    let lines: Vec<String> = generate::lines(3, 2, false).collect();
    let plain = run(&ndjson(&lines), &threads(1));
    let mut marked = b"\xEF\xBB\xBF".to_vec();
    marked.extend(ndjson(&lines));
    assert_eq!(run(&marked, &threads(1)), plain);
    assert_eq!(
        run(b"\xEF\xBB\xBF", &threads(1)).summary,
        Summary { read: 0, assigned: 0, rejected: 0, stopped: false }
    );
    let utf16: Vec<u8> = lines[0].encode_utf16().flat_map(u16::to_le_bytes).collect();
    match run_on(rules(), &mut &utf16[..], &threads(1)) {
        Err(BatchError::Start(error)) => assert_eq!(error.kind(), io::ErrorKind::InvalidData),
        other => panic!("{other:?}"),
    }
}
