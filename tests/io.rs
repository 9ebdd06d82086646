//! How `narval` opens and reads files and standard streams, and how it
//! writes what it must: closed standard streams, special files (named
//! pipes, sockets, devices, folders), line ends and byte order marks under
//! `fmt`, `check -`, import roots, and the `--out` temporary file. Each test
//! runs the binary, as a user would.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The folder of the CLI fixtures, where every command runs.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli");

/// Runs narval in the fixtures folder with `stdin` as standard input.
fn narval(args: &[&str], stdin: &str) -> Output {
    let mut child = command(args).stdin(Stdio::piped()).spawn().expect("the narval binary runs");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let output = finish(child);
    feeder.join().unwrap();
    output
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_narval"));
    command.args(args).current_dir(FIXTURES).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// Runs narval through `sh` with a redirection such as `>&-` (standard
/// output closed) or `<&-`, which `Command` cannot express.
fn narval_with(redirect: &str, args: &[&str]) -> Output {
    let script = format!("exec \"$0\" \"$@\" {redirect}");
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_narval"))
        .args(args)
        .current_dir(FIXTURES)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish(child)
}

/// Waits for a child; one that does not end within a generous number of
/// polls hangs, and is killed so that the test fails instead of hanging too.
fn finish(mut child: std::process::Child) -> Output {
    for _ in 0..6000 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    panic!("narval hangs: {:?}", child.wait_with_output().unwrap());
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A fresh folder under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("narval-io-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir.canonicalize().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

const RULES: &str = "narval 1\nschema { id: int, volunteer: bool }\nsolicitation streams door_knock\n\
                     knock: not volunteer -> door_knock\n";

// ---- closed standard streams ---------------------------------------------------

#[test]
fn output_to_a_closed_standard_output_is_exit_status_4_in_every_command() {
    let commands: &[&[&str]] = &[
        &["assign", "campaign.narval", "--profiles", "profiles.ndjson"],
        &["check", "campaign.narval", "--format", "json"],
        &["check", "unknown_field.narval", "--format", "sarif"],
        &["explain", "campaign.narval", "--profile", "profiles.ndjson", "--id", "1"],
        &["audit", "campaign.narval"],
        &["test", "suite.narval"],
        &["fmt", "--stdout", "campaign.narval"],
    ];
    for args in commands {
        let out = narval_with(">&-", args);
        assert_eq!(code(&out), 4, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("cannot write output: standard output is closed"), "{args:?}: {}", stderr(&out));
    }
    // Nothing to write on standard output: nothing lost.
    let out = narval_with(">&-", &["check", "campaign.narval"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_closed_standard_input_is_an_error_not_an_empty_input() {
    let commands: &[&[&str]] = &[
        &["assign", "campaign.narval", "--profiles", "-"],
        &["explain", "campaign.narval", "--profile", "-"],
        &["fmt", "-"],
        &["check", "-"],
    ];
    for args in commands {
        let out = narval_with("<&-", args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("standard input is closed"), "{args:?}: {}", stderr(&out));
    }
}

// ---- special files ---------------------------------------------------------------

#[test]
fn a_named_pipe_named_in_a_rule_file_is_refused_without_waiting_for_a_writer() {
    let dir = Scratch::new("fifo-import");
    mkfifo(&dir.path("pipe.narval"));
    mkfifo(&dir.path("pipe.json"));
    let rules = format!("{RULES}import \"pipe.narval\"\n");
    dir.write("rules.narval", rules);
    let out = narval(&["check", &dir.arg("rules.narval")], "");
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("cannot import `pipe.narval`: is a named pipe, not a regular file"),
        "{}",
        stderr(&out)
    );
    let tests = format!("{RULES}test \"from a pipe\" {{ given \"pipe.json\" expect door_knock }}\n");
    dir.write("cases.narval", tests);
    let out = narval(&["test", &dir.arg("cases.narval")], "");
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(stdout(&out).contains("pipe.json`: is a named pipe, not a regular file"), "{}", stdout(&out));
}

#[test]
fn a_socket_a_folder_and_a_device_named_in_a_rule_file_are_refused() {
    let dir = Scratch::new("special-import");
    let _listener = std::os::unix::net::UnixListener::bind(dir.path("socket.narval")).unwrap();
    std::fs::create_dir(dir.path("folder.narval")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.path("device.narval")).unwrap();
    let imports = "import \"socket.narval\"\nimport \"folder.narval\"\nimport \"device.narval\"\n";
    dir.write("rules.narval", format!("{RULES}{imports}"));
    let out = narval(&["check", &dir.arg("rules.narval"), "--import-root", "/"], "");
    assert_eq!(code(&out), 1);
    for expected in [
        "cannot import `socket.narval`: is a socket, not a file",
        "cannot import `folder.narval`: is a directory",
        "cannot import `device.narval`: is a device, not a regular file",
    ] {
        assert!(stderr(&out).contains(expected), "{expected}: {}", stderr(&out));
    }
}

#[test]
fn a_named_pipe_given_on_the_command_line_is_read_as_a_stream() {
    let dir = Scratch::new("fifo-profiles");
    let pipe = dir.path("profiles.ndjson");
    mkfifo(&pipe);
    let writer = std::thread::spawn(move || {
        std::fs::write(pipe, "{\"id\": 1, \"volunteer\": false}\n").unwrap();
    });
    dir.write("rules.narval", RULES);
    let out = narval(&["assign", &dir.arg("rules.narval"), "--profiles", &dir.arg("profiles.ndjson")], "");
    writer.join().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "{\"id\":1,\"solicitations\":[\"door_knock\"],\"issues\":[]}\n");
}

#[cfg(target_os = "linux")]
#[test]
fn endless_profiles_without_a_line_end_stop_the_run() {
    let out = narval(&["assign", "campaign.narval", "--profiles", "/dev/zero"], "");
    assert_eq!(code(&out), 2);
    assert_eq!(stderr(&out), "narval: cannot read line 1 of `/dev/zero`: no line end in its first 256 MiB\n");
}

#[test]
fn a_folder_given_as_rules_or_profiles_is_refused() {
    let out = narval(&["check", "."], "");
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("cannot read `.`: is a directory"), "{}", stderr(&out));
    let out = narval(&["explain", "campaign.narval", "--profile", "."], "");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
}

// ---- encodings of profile files ----------------------------------------------------

#[test]
fn a_profile_file_not_in_utf8_says_what_it_looks_like() {
    let dir = Scratch::new("latin1-profile");
    dir.write("rules.narval", RULES);
    dir.write("p.json", b"{\"id\": 1, \"volunteer\": false, \"name\": \"Fran\xe7ois\"}\n");
    // A test's profile file is a text narval reads whole.
    dir.write("cases.narval", format!("{RULES}test \"latin\" {{ given \"p.json\" expect door_knock }}\n"));
    let out = narval(&["test", &dir.arg("cases.narval")], "");
    assert_eq!(code(&out), 5);
    assert!(
        stdout(&out).contains("not UTF-8 text: it looks like Latin-1 (ISO-8859-1) at line 1 column 44"),
        "{}",
        stdout(&out)
    );
    // `explain` reads a profile as `assign` reads a line: rejected, with the column.
    let out = narval(&["explain", &dir.arg("rules.narval"), "--profile", &dir.arg("p.json")], "");
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("not UTF-8 text (invalid byte at column 44)"), "{}", stderr(&out));
}

#[test]
fn profiles_in_utf16_are_refused_at_once() {
    let dir = Scratch::new("utf16-profiles");
    let text: Vec<u8> = "{\"id\": 1, \"volunteer\": false}\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    dir.write("p.ndjson", text);
    let out = narval(&["assign", "campaign.narval", "--profiles", &dir.arg("p.ndjson")], "");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not UTF-8 text: it looks like UTF-16"), "{}", stderr(&out));
}

// ---- check - and fmt ----------------------------------------------------------------

#[test]
fn check_reads_standard_input_as_fmt_does() {
    let out = narval(&["check", "-"], RULES);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "narval: ok, 1 file checked\n");
    let out =
        narval(&["check", "-"], "narval 1\nschema { volunteer: bool }\nsolicitation streams a\nr: volunter -> a\n");
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains(" --> <stdin>:4:4"), "{}", stderr(&out));
}

#[test]
fn fmt_keeps_a_files_line_ends_and_byte_order_mark() {
    let dir = Scratch::new("fmt-line-ends");
    let formatted = narval(&["fmt", "--stdout", "campaign.narval"], "");
    let formatted = stdout(&formatted);
    for (name, ending) in [("crlf.narval", "\r\n"), ("cr.narval", "\r")] {
        let text = formatted.replace('\n', ending);
        dir.write(name, &text);
        let out = narval(&["fmt", "--check", &dir.arg(name)], "");
        assert_eq!(code(&out), 0, "{name}: {}{}", stdout(&out), stderr(&out));
        // One line out of place: only it is listed, and the file stays CRLF (CR).
        let changed = text.replacen(&format!("narval 1{ending}"), &format!("narval   1{ending}"), 1);
        dir.write(name, &changed);
        let out = narval(&["fmt", "--check", &dir.arg(name)], "");
        assert_eq!(code(&out), 7);
        assert_eq!(stdout(&out), format!("--- {}:1\n-narval   1\n+narval 1\n", dir.arg(name)));
        let out = narval(&["fmt", &dir.arg(name)], "");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(dir.path(name)).unwrap(), text);
    }
    // Mixed line ends: said once, and written as the first line's.
    let mixed = formatted.replacen('\n', "\r\n", 1);
    dir.write("mixed.narval", &mixed);
    let out = narval(&["fmt", "--check", &dir.arg("mixed.narval")], "");
    assert_eq!(code(&out), 7);
    let said = format!("--- {}: mixed line ends, to be written as CRLF throughout\n", dir.arg("mixed.narval"));
    assert_eq!(stdout(&out), said);
    // A byte order mark is kept.
    let marked = format!("\u{feff}{formatted}");
    dir.write("bom.narval", &marked);
    let out = narval(&["fmt", "--check", &dir.arg("bom.narval")], "");
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
}

// ---- import roots ----------------------------------------------------------------------

/// The profile file of a test case follows the rule of imports; the
/// message names the folder as the current one shows it, not by a path
/// that depends on where the checkout lies.
#[test]
fn a_test_profile_file_outside_the_folders_given_needs_import_root() {
    let dir = Scratch::new("given-outside");
    std::fs::create_dir(dir.path("cases")).unwrap();
    dir.write("p.json", "{\"id\": 1, \"volunteer\": false}");
    let tests = format!("{RULES}test \"from outside\" {{ given \"../p.json\" expect door_knock }}\n");
    dir.write("cases/cases.narval", tests);
    let mut run = command(&["test", "cases.narval"]);
    let out = finish(run.current_dir(dir.path("cases")).spawn().unwrap());
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("cannot read `../p.json`: outside the folder `.` (see `--import-root`)"),
        "{}",
        stdout(&out)
    );
    let mut run = command(&["test", "cases.narval", "--import-root", ".."]);
    let out = finish(run.current_dir(dir.path("cases")).spawn().unwrap());
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn an_import_outside_the_folders_given_needs_import_root() {
    let dir = Scratch::new("import-root");
    std::fs::create_dir(dir.path("rules")).unwrap();
    std::fs::create_dir(dir.path("common")).unwrap();
    dir.write("common/schema.narval", "narval 1\nschema { id: int, volunteer: bool }\n");
    let rules = "narval 1\nimport \"../common/schema.narval\"\nsolicitation streams a\nr: volunteer -> a\n";
    dir.write("rules/rules.narval", rules);
    // Run from elsewhere: neither the rule file's folder nor the current one holds the import.
    let out = narval(&["check", &dir.arg("rules/rules.narval")], "");
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("error[E0008]: cannot import `../common/schema.narval`: outside the folder"),
        "{}",
        stderr(&out)
    );
    let out = narval(&["check", &dir.arg("rules/rules.narval"), "--import-root", dir.0.to_str().unwrap()], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // A symbolic link inside the folder is followed before the check.
    std::os::unix::fs::symlink(dir.path("common/schema.narval"), dir.path("rules/link.narval")).unwrap();
    dir.write("rules/linked.narval", rules.replace("../common/schema.narval", "link.narval"));
    let out = narval(&["check", &dir.arg("rules/linked.narval")], "");
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("cannot import `link.narval`: outside the folder"), "{}", stderr(&out));
    // The root must be a folder.
    let out = narval(&["check", &dir.arg("rules/rules.narval"), "--import-root", "nowhere"], "");
    assert_eq!(code(&out), 2);
}

#[test]
fn a_file_that_is_not_a_narval_file_is_never_quoted() {
    let dir = Scratch::new("not-narval");
    dir.write("secret.txt", "root:$6$a-password-hash:19000:0:99999:7:::\n");
    dir.write("rules.narval", format!("{RULES}import \"secret.txt\"\n"));
    for args in
        [vec!["check", "rules.narval"], vec!["check", "secret.txt"], vec!["check", "rules.narval", "--format", "json"]]
    {
        let mut command = command(&args);
        let out = finish(command.current_dir(&dir.0).spawn().unwrap());
        assert_eq!(code(&out), 1);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains("root") && !all.contains("password"), "{args:?}: {all}");
        assert!(all.contains("`secret.txt` is not a narval file"), "{args:?}: {all}");
    }
}

// ---- the temporary file of --out ------------------------------------------------

#[test]
fn out_with_the_longest_file_name_fits_its_temporary_name() {
    let dir = Scratch::new("long-out");
    let name = format!("{}.ndjson", "a".repeat(248));
    let out = narval(&["assign", "campaign.narval", "--profiles", "profiles.ndjson", "--out", &dir.arg(&name)], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(dir.path(&name)).unwrap().lines().count(), 3);
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1, "no temporary file is left");
}

#[test]
fn fmt_of_a_file_with_the_longest_name_fits_its_temporary_name() {
    let dir = Scratch::new("long-fmt");
    let name = format!("{}.narval", "a".repeat(248));
    let formatted = stdout(&narval(&["fmt", "--stdout", "campaign.narval"], ""));
    dir.write(&name, formatted.replacen("narval 1\n", "narval   1\n", 1));
    let out = narval(&["fmt", &dir.arg(&name)], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(dir.path(&name)).unwrap(), formatted);
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1, "no temporary file is left");
}
