//! Stage three, continued: rule conditions as native code (feature `jit`).
//!
//! [`specialise`](crate::eval::specialise) leaves a tree of tests that an
//! interpreter walks for every profile. Here the same tests become one
//! machine-code function per rule set, generated with
//! [Cranelift](https://cranelift.dev) when the rule set is built: every
//! fused leaf is a few instructions that read the profile's values in
//! place, `and`/`or` are branches, shared leaves and boolean definitions are
//! cached in a byte per profile, and each rule ors its streams into masks
//! held in registers. A leaf the generator does not handle (a definition of
//! another type, an arithmetic comparison, a membership test in a long
//! list, ...) calls back into the specialised interpreter, so every rule set
//! runs natively and a new node kind works before it is generated.
//!
//! The two forms must agree: `tests/specialise.rs`, `tests/differential.rs` and
//! the fuzzer's `eval` target hold the native code equal to the interpreter
//! and to a plain reference on random rule sets and profiles.
//!
//! # Safety
//!
//! This is the one module of the library with `unsafe` code (the
//! workspace denies `unsafe_code`; this module allows it). The generated
//! function only reads the `Frame` it is given: the profile's values
//! through bounds-checked indices (every span is checked against the
//! length of the values or of the text before it is followed), a byte cache
//! of the frame's size, and its output words. [`Value`]'s layout is fixed
//! by `repr(C, u8)`. The code lives as long as the `Code` that owns it,
//! which every [`Native`] holding it keeps alive through an `Arc`.
#![allow(unsafe_code)]

mod gen;

use std::ffi::c_void;
use std::sync::Arc;

use crate::decode::{Profile, Value};
use crate::eval::compile::Program;
use crate::eval::interpret::{Cx, StreamSet};
use crate::eval::specialise::Test;

/// A rule set's native code, when it has some; shared by the program's
/// clones.
#[derive(Clone, Default)]
pub struct Native {
    code: Option<Arc<Code>>,
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "Native({} callbacks)", code.callbacks.len()),
            None => f.write_str("Native(none)"),
        }
    }
}

/// Native code is a function of the rest of the program: two programs that
/// are otherwise equal have equivalent code, whether or not either has it.
impl PartialEq for Native {
    fn eq(&self, _: &Native) -> bool {
        true
    }
}

/// Why a rule set has no native code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// More streams than the masks hold.
    #[error("more than 256 streams")]
    Streams,
    /// More rules than it is worth compiling.
    #[error("more than {0} rules")]
    Rules(usize),
    /// Cranelift does not support this machine, or refused the function.
    #[error("native code generation failed: {0}")]
    Codegen(String),
}

/// Rule sets with more rules than this outside the indexes
/// ([`crate::eval::dispatch`]) are evaluated by the interpreter.
pub const MAX_RULES: usize = 1024;

/// Rules (and requirements) per generated function.
pub const CHUNK: usize = gen::CHUNK;

/// A rule set with more rules found through indexes than this is native in
/// part, whatever its size ([`ALL_RULES`]).
pub const INDEXED_RULES: usize = 16;

/// In a program native in part, an index of fewer rules than this is not
/// walked: its rules are native in the entry, like the rules outside the
/// indexes, since evaluating a few rules natively costs less than finding
/// them (the campaign's five rules guarded by `age`).
pub const WALKED_INDEX: usize = INDEXED_RULES + 1;

/// The rules the entry of a program native in part evaluates: those outside
/// the indexes and those of the indexes of fewer than `walk_from` rules,
/// which the interpreter does not walk, in order.
pub(crate) fn entry_rules(program: &Program, walk_from: usize) -> Vec<u32> {
    let dispatch = &program.dispatch;
    let mut rules = dispatch.always.clone();
    let unwalked = |all: &[u32]| all.len() < walk_from;
    rules.extend(dispatch.indexes.iter().filter(|i| unwalked(&i.all)).flat_map(|i| i.all.iter().copied()));
    rules.extend(dispatch.ranges.iter().filter(|i| unwalked(&i.all)).flat_map(|i| i.all.iter().copied()));
    rules.sort_unstable();
    rules.dedup();
    rules
}

/// Rule sets with at most this many rules (and at most [`INDEXED_RULES`]
/// found through indexes) are native whole: every rule, the requirements,
/// without the indexes. Other ones are native for the rules outside the
/// indexes and for the requirements; the interpreter walks the indexes and
/// calls native code for the residuals of the rules it finds
/// ([`crate::eval::specialise::Tests::residuals`]).
pub const ALL_RULES: usize = 256;

impl Native {
    /// Generates the native code of a program whose specialised tests are
    /// built.
    pub fn build(program: &Program) -> Result<Native, Unavailable> {
        // Native whole when the rules are few, and few of them are found
        // through indexes: evaluating many indexed rules natively, one
        // after the other, costs more than finding them.
        let indexed = program.rules.len().saturating_sub(program.dispatch.always.len());
        let all = program.rules.len() <= ALL_RULES && indexed <= INDEXED_RULES;
        Native::generate(program, all, gen::CHUNK, WALKED_INDEX, false)
    }

    /// [`Native::build`], whole (`all`) or only for the rules outside the
    /// indexes, with `chunk` rules to a function (32 otherwise; a program
    /// native whole of up to 64 rules is one function), whatever the number of rules: tests try
    /// each way. In part, the interpreter walks every index, however few
    /// its rules ([`WALKED_INDEX`]), so that tests of small rule sets take
    /// the path of large ones; and only every other residual is native,
    /// so that the interpreter evaluates the others, as it does past the
    /// limit of a large rule set.
    pub fn build_chunked(program: &Program, all: bool, chunk: usize) -> Result<Native, Unavailable> {
        Native::generate(program, all, chunk, 0, true)
    }

    fn generate(
        program: &Program,
        all: bool,
        chunk: usize,
        walk_from: usize,
        every_other: bool,
    ) -> Result<Native, Unavailable> {
        if program.streams > 256 || program.tests.effects.len() != program.rules.len() {
            return Err(Unavailable::Streams);
        }
        // A small rule set is native whole; a large one, whose rules are
        // mostly found through indexes, only for its other rules.
        if !all && entry_rules(program, walk_from).len() > MAX_RULES {
            return Err(Unavailable::Rules(MAX_RULES));
        }
        let code = gen::generate(program, all, chunk, walk_from, every_other).map_err(Unavailable::Codegen)?;
        Ok(Native { code: Some(Arc::new(code)) })
    }

    /// Whether there is native code to run.
    pub fn is_some(&self) -> bool {
        self.code.is_some()
    }

    /// The streams of a profile, by native code; `None` without it.
    pub(crate) fn assign(&self, program: &Program, profile: &Profile) -> Option<StreamSet> {
        let code = self.code.as_deref()?;
        if code.cache > SMALL_CACHE || code.numbers > SMALL_NUMBERS {
            return self.assign_large(code, program, profile);
        }
        let mut cache = [0u8; SMALL_CACHE];
        // Read only where the code wrote them first (their cache byte
        // says so), so they need no zeroing.
        let mut numbers = [std::mem::MaybeUninit::<i64>::uninit(); SMALL_NUMBERS];
        Native::run(code, program, profile, &mut cache, &mut numbers)
    }

    /// [`Native::assign`] for a rule set whose cache or numbers do not fit
    /// on the stack.
    #[inline(never)]
    fn assign_large(&self, code: &Code, program: &Program, profile: &Profile) -> Option<StreamSet> {
        let mut cache = vec![0u8; code.cache];
        let mut numbers = vec![std::mem::MaybeUninit::<i64>::uninit(); code.numbers];
        Native::run(code, program, profile, &mut cache, &mut numbers)
    }

    /// Runs the code on a profile with a cache and numbers of at least the
    /// sizes it needs.
    #[inline(always)]
    fn run(
        code: &Code,
        program: &Program,
        profile: &Profile,
        cache: &mut [u8],
        numbers: &mut [std::mem::MaybeUninit<i64>],
    ) -> Option<StreamSet> {
        let (values, text, root) = profile.raw();
        let mut env = Env { program, profile, cx: None, callbacks: &code.callbacks };
        let mut frame = Frame {
            values: values.as_ptr(),
            values_len: values.len(),
            text: text.as_ptr(),
            text_len: text.len(),
            root_len: root,
            cache: cache.as_mut_ptr(),
            numbers: numbers.as_mut_ptr().cast(),
            env: std::ptr::addr_of_mut!(env).cast(),
            callback,
            out: [0; 8],
            bailed: 0,
        };
        // SAFETY: the frame's pointers and lengths describe live buffers
        // (the profile, the cache of `code.cache` bytes, `env`) that outlive
        // the call, and the code only reads and writes within them (module
        // documentation); `code` keeps the function alive.
        unsafe { (code.entry)(&mut frame) };
        if frame.bailed != 0 {
            // A root record shorter than the code reads without checking:
            // the interpreter, which checks every read.
            return None;
        }
        if !code.all {
            // The rules the indexes find, walked by the interpreter, which
            // calls back for their residuals; then the requirements,
            // natively again, on the streams left.
            let mut words = frame.out;
            let mut residual = |index: u32| {
                let check = (*code.residuals.get(index as usize)?)?;
                // SAFETY: as for the entry above, which passed its check of
                // the root record: the frame is unchanged but for its
                // output words and cache.
                let truth = unsafe { check(&mut frame) };
                Some(match i64::from(truth) {
                    TRUE => Some(true),
                    FALSE => Some(false),
                    _ => None,
                })
            };
            program.walk_found(profile, &mut words, &mut residual, code.walk_from);
            let (assigned, suppressed) = words.split_at(4);
            frame.out = [0; 8];
            frame.out.iter_mut().zip(assigned.iter().zip(suppressed)).for_each(|(o, (a, s))| *o = a & !s);
            if let Some(requirements) = code.requirements {
                // SAFETY: as for the entry above; the frame is unchanged
                // but for its output words.
                unsafe { requirements(&mut frame) };
            }
        }
        let mut out = [0; 4];
        out.iter_mut().zip(&frame.out).for_each(|(o, w)| *o = *w);
        let mut streams = StreamSet::from_inline(out);
        program.cap(&mut streams);
        Some(streams)
    }
}

/// Cache bytes and numbers kept on the stack; a rule set needing more has
/// them on the heap.
const SMALL_CACHE: usize = 64;
const SMALL_NUMBERS: usize = 16;

/// What the generated function is given: the profile's buffers, the cache,
/// the callback with its context, and the words it writes the streams to.
#[repr(C)]
struct Frame {
    values: *const Value,
    values_len: usize,
    text: *const u8,
    text_len: usize,
    root_len: usize,
    /// One byte per shared leaf and definition: 0 not yet computed, else the
    /// truth plus one (for a number, "false" when it is known).
    cache: *mut u8,
    /// The value of each definition computed as a number, by definition.
    numbers: *mut i64,
    env: *mut c_void,
    callback: Callback,
    /// The profile's streams after rules and requirements; or for a
    /// program native in part, the streams its rules assigned (words 0 to
    /// 3) and suppressed (4 to 7).
    out: [u64; 8],
    /// Set when the code did not run, the root record being shorter than
    /// it reads.
    bailed: u64,
}

/// A truth as native code holds it.
const FALSE: i64 = 0;
const TRUE: i64 = 1;
const UNKNOWN: i64 = 2;

type Callback = extern "C" fn(*mut c_void, u32) -> u8;

/// What a callback needs to run a test on the interpreter.
struct Env<'a> {
    program: &'a Program,
    profile: &'a Profile,
    /// The interpreter's scratch, made at the first callback.
    cx: Option<Cx<'a>>,
    callbacks: &'a [Test],
}

/// Evaluates callback test `index` with the interpreter, on the profile's
/// root record.
extern "C" fn callback(env: *mut c_void, index: u32) -> u8 {
    // SAFETY: native code passes back the `env` of its frame, an `Env` that
    // `Native::assign` keeps borrowed for the whole call.
    let env = unsafe { &mut *env.cast::<Env<'_>>() };
    let run = std::panic::AssertUnwindSafe(|| {
        let test = env.callbacks.get(index as usize)?;
        let cx = env.cx.get_or_insert_with(|| Cx::new(env.program));
        env.program.check(test, cx, env.profile.fields(), env.profile)
    });
    // A panic must not unwind through native frames.
    match std::panic::catch_unwind(run) {
        Ok(Some(true)) => TRUE as u8,
        Ok(Some(false)) => FALSE as u8,
        Ok(None) => UNKNOWN as u8,
        Err(_) => std::process::abort(),
    }
}

type Entry = unsafe extern "C" fn(*mut Frame);

/// A function computing one test of the profile of its frame.
type Check = unsafe extern "C" fn(*mut Frame) -> u8;

/// A compiled rule set: the function, the tests it calls back for, and the
/// memory that holds the code.
struct Code {
    entry: Entry,
    callbacks: Vec<Test>,
    /// Bytes of cache the function uses.
    cache: usize,
    /// Numbers of the number cache it uses.
    numbers: usize,
    /// Whether it evaluates the whole program ([`ALL_RULES`]).
    all: bool,
    /// For a program native in part, the requirements, applied to the
    /// streams in output words 0 to 3 after the interpreter has evaluated
    /// the rules the indexes find.
    requirements: Option<Entry>,
    /// Indexes of fewer rules than this are native in the entry, not
    /// walked ([`WALKED_INDEX`]).
    walk_from: usize,
    /// By index in [`crate::eval::specialise::Tests::residuals`], the function of
    /// each residual native code evaluates.
    residuals: Vec<Option<Check>>,
    /// Frees the code's memory when the last program using it goes.
    _memory: gen::Memory,
}
