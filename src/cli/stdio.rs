//! Standard input and output as the command was started with them.
//!
//! Rust's runtime points a standard stream that was closed (`narval assign
//! ... >&-`) at `/dev/null` before `main`, so that writes to it succeed and
//! reads from it find nothing: output would be lost and input look empty,
//! both silently. [`record`] runs before the runtime does and notes which
//! streams were closed; [`stdout`] then refuses to write to a closed one
//! (exit status 4) and [`stdin`] to read from one (exit status 2).

// The one place of the command line with `unsafe` code (the crate denies
// `unsafe_code`): a C constructor and one `fcntl` call, see `record`.
#![allow(unsafe_code)]

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDIN_CLOSED: AtomicBool = AtomicBool::new(false);
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Notes which of standard input and output are closed. Called from the
/// executable's `.init_array`, before Rust's runtime starts.
#[cfg(target_os = "linux")]
pub extern "C" fn record() {
    extern "C" {
        fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    }
    const F_GETFD: i32 = 1;
    // SAFETY: F_GETFD reads a descriptor's flags and changes nothing; it
    // fails (-1, EBADF) on a descriptor that is not open.
    let closed = |fd: i32| unsafe { fcntl(fd, F_GETFD) } == -1;
    STDIN_CLOSED.store(closed(0), Ordering::Relaxed);
    STDOUT_CLOSED.store(closed(1), Ordering::Relaxed);
}

/// Runs [`record`] before `main`, as a C constructor.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static RECORD: extern "C" fn() = record;

fn closed(what: &str) -> io::Error {
    io::Error::other(format!("standard {what} is closed"))
}

/// Standard input, or an error when the command was started with it closed
/// (`<&-`): a closed input is not an empty one.
pub fn stdin() -> io::Result<io::StdinLock<'static>> {
    if STDIN_CLOSED.load(Ordering::Relaxed) {
        return Err(closed("input"));
    }
    Ok(io::stdin().lock())
}

/// Standard output; every write fails when the command was started with it
/// closed (`>&-`), so that the output is never lost silently.
pub fn stdout() -> Stdout {
    Stdout { inner: io::stdout().lock(), closed: STDOUT_CLOSED.load(Ordering::Relaxed) }
}

/// See [`stdout`].
pub struct Stdout {
    inner: io::StdoutLock<'static>,
    closed: bool,
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Err(closed("output"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Err(closed("output"));
        }
        self.inner.flush()
    }
}
