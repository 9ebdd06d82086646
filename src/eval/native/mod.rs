//! Rule conditions as native code (feature `jit`).
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
//! through bounds-checked indices (every slice is checked against the
//! length of the values or of the text before it is followed), a byte cache
//! of the frame's size, and its output words. [`crate::decode::Value`]'s layout is fixed
//! by `repr(C, u8)`. The code lives as long as the `Code` that owns it,
//! which every [`Native`] holding it keeps alive through an `Arc`.
#![allow(unsafe_code)]

pub(crate) mod code;
mod gen;

use std::ffi::c_void;
use std::sync::Arc;

use crate::decode::Profile;
use crate::eval::fused::Condition;
use crate::eval::interpret::{Scratch, StreamSet};
use crate::eval::native::code::{Code, Frame, FALSE, TRUE, UNKNOWN};
pub use crate::eval::native::code::{Native, Unavailable, ALL_RULES, CHUNK, INDEXED_RULES, MAX_RULES, WALKED_INDEX};
use crate::eval::program::Program;

impl Native {
    /// Generates the native code of a program whose specialised conditions are
    /// built.
    pub fn build(program: &Program) -> Result<Native, Unavailable> {
        // Native whole when the rules are few, and few of them are found
        // through indexes: evaluating many indexed rules natively, one
        // after the other, costs more than finding them.
        let indexed = program.rules.len().saturating_sub(program.dispatch.always.len());
        let all = program.rules.len() <= ALL_RULES && indexed <= INDEXED_RULES;
        Native::generate(program, all, CHUNK, WALKED_INDEX, false)
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
        if program.streams > 256 || program.fused.effects.len() != program.rules.len() {
            return Err(Unavailable::Streams);
        }
        // A small rule set is native whole; a large one, whose rules are
        // mostly found through indexes, only for its other rules.
        if !all && gen::entry_rules(program, walk_from).len() > MAX_RULES {
            return Err(Unavailable::Rules(MAX_RULES));
        }
        let code = gen::generate(program, all, chunk, walk_from, every_other).map_err(Unavailable::Codegen)?;
        Ok(Native { code: Some(Arc::new(code)) })
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
        let mut env = Env { program, profile, scratch: None, callbacks: &code.callbacks };
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

/// What a callback needs to run a test on the interpreter.
struct Env<'a> {
    program: &'a Program,
    profile: &'a Profile,
    /// The interpreter's scratch, made at the first callback.
    scratch: Option<Scratch<'a>>,
    callbacks: &'a [Condition],
}

/// Evaluates callback test `index` with the interpreter, on the profile's
/// root record.
extern "C" fn callback(env: *mut c_void, index: u32) -> u8 {
    // SAFETY: native code passes back the `env` of its frame, an `Env` that
    // `Native::assign` keeps borrowed for the whole call.
    let env = unsafe { &mut *env.cast::<Env<'_>>() };
    let run = std::panic::AssertUnwindSafe(|| {
        let test = env.callbacks.get(index as usize)?;
        let scratch = env.scratch.get_or_insert_with(|| Scratch::new(env.program));
        env.program.check(test, scratch, env.profile.fields(), env.profile)
    });
    // A panic must not unwind through native frames.
    match std::panic::catch_unwind(run) {
        Ok(Some(true)) => TRUE as u8,
        Ok(Some(false)) => FALSE as u8,
        Ok(None) => UNKNOWN as u8,
        Err(_) => std::process::abort(),
    }
}

impl Program {
    /// Generates the native code of the program's specialised conditions, which
    /// [`Program::assign`] then runs for a native engine
    /// ([`Program::set_engine`]). A program without it (more rules or
    /// streams than native code takes, or a machine Cranelift does not
    /// support) is evaluated by the interpreter, with the same results.
    pub(crate) fn generate_native(&mut self) -> Result<(), Unavailable> {
        self.native = Native::build(self)?;
        Ok(())
    }

    /// [`Program::generate_native`] whole (`all`) or for the rules outside
    /// the indexes only, as for a large rule set, whatever its size, with
    /// `chunk` rules to a function: tests try each way.
    pub(crate) fn generate_native_as(&mut self, all: bool, chunk: usize) -> Result<(), Unavailable> {
        self.native = Native::build_chunked(self, all, chunk)?;
        Ok(())
    }
}
