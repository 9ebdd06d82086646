//! What native code is made of, shared by the generator ([`super::gen`])
//! and the runner ([`super`]): the code a program owns, the frame the
//! generated function is given, and the limits that choose how much of a
//! program is native. Nothing here generates or runs code.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::sync::Arc;

use cranelift_jit::JITModule;

use crate::decode::Value;
use crate::eval::fused::Condition;

/// A rule set's native code, when it has some; shared by the program's
/// clones.
#[derive(Clone, Default)]
pub struct Native {
    pub(super) code: Option<Arc<Code>>,
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
pub const CHUNK: usize = 32;

/// A rule set with more rules found through indexes than this is native in
/// part, whatever its size ([`ALL_RULES`]).
pub const INDEXED_RULES: usize = 16;

/// In a program native in part, an index of fewer rules than this is not
/// walked: its rules are native in the entry, like the rules outside the
/// indexes, since evaluating a few rules natively costs less than finding
/// them (the campaign's five rules guarded by `age`).
pub const WALKED_INDEX: usize = INDEXED_RULES + 1;

/// Rule sets with at most this many rules (and at most [`INDEXED_RULES`]
/// found through indexes) are native whole: every rule, the requirements,
/// without the indexes. Other ones are native for the rules outside the
/// indexes and for the requirements; the interpreter walks the indexes and
/// calls native code for the residuals of the rules it finds
/// ([`crate::eval::specialise::Conditions::residuals`]).
pub const ALL_RULES: usize = 256;

impl Native {
    /// Whether there is native code to run.
    pub fn is_some(&self) -> bool {
        self.code.is_some()
    }
}

/// What the generated function is given: the profile's buffers, the cache,
/// the callback with its context, and the words it writes the streams to.
#[repr(C)]
pub(super) struct Frame {
    pub(super) values: *const Value,
    pub(super) values_len: usize,
    pub(super) text: *const u8,
    pub(super) text_len: usize,
    pub(super) root_len: usize,
    /// One byte per shared leaf and definition: 0 not yet computed, else the
    /// truth plus one (for a number, "false" when it is known).
    pub(super) cache: *mut u8,
    /// The value of each definition computed as a number, by definition.
    pub(super) numbers: *mut i64,
    pub(super) env: *mut c_void,
    pub(super) callback: Callback,
    /// The profile's streams after rules and requirements; or for a
    /// program native in part, the streams its rules assigned (words 0 to
    /// 3) and suppressed (4 to 7).
    pub(super) out: [u64; 8],
    /// Set when the code did not run, the root record being shorter than
    /// it reads.
    pub(super) bailed: u64,
}

/// A truth as native code holds it.
pub(super) const FALSE: i64 = 0;
pub(super) const TRUE: i64 = 1;
pub(super) const UNKNOWN: i64 = 2;

pub(super) type Callback = extern "C" fn(*mut c_void, u32) -> u8;

pub(super) type Entry = unsafe extern "C" fn(*mut Frame);

/// A function computing one test of the profile of its frame.
pub(super) type Check = unsafe extern "C" fn(*mut Frame) -> u8;

/// A compiled rule set: the function, the tests it calls back for, and the
/// memory that holds the code.
pub(super) struct Code {
    pub(super) entry: Entry,
    pub(super) callbacks: Vec<Condition>,
    /// Bytes of cache the function uses.
    pub(super) cache: usize,
    /// Numbers of the number cache it uses.
    pub(super) numbers: usize,
    /// Whether it evaluates the whole program ([`ALL_RULES`]).
    pub(super) all: bool,
    /// For a program native in part, the requirements, applied to the
    /// streams in output words 0 to 3 after the interpreter has evaluated
    /// the rules the indexes find.
    pub(super) requirements: Option<Entry>,
    /// Indexes of fewer rules than this are native in the entry, not
    /// walked ([`WALKED_INDEX`]).
    pub(super) walk_from: usize,
    /// By index in [`crate::eval::specialise::Conditions::residuals`], the function of
    /// each residual native code evaluates.
    pub(super) residuals: Vec<Option<Check>>,
    /// Frees the code's memory when the last program using it goes.
    pub(super) _memory: Memory,
}

/// Owns the memory of the generated code, and frees it when dropped.
pub(super) struct Memory(pub(super) Option<JITModule>);

// SAFETY: the module is touched only when dropped (the code it owns is
// immutable once finalized, and calling it needs no access to the module),
// so moving it to, or sharing its owner with, another thread is sound.
unsafe impl Send for Memory {}
// SAFETY: as for `Send`: no method reads the module through `&Memory`.
unsafe impl Sync for Memory {}

impl Drop for Memory {
    fn drop(&mut self) {
        if let Some(module) = self.0.take() {
            // SAFETY: the `Code` that owned this memory is being dropped,
            // so its entry can no longer be called.
            unsafe { module.free_memory() };
        }
    }
}
