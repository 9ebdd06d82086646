//! The one switch between evaluators: which of them runs a program's
//! profiles, chosen once when the rule set is built
//! ([`crate::eval::program::Program::set_engine`]) and kept with the
//! program, so that [`crate::eval::program::Program::assign`] dispatches on
//! it (in [`crate::eval::assign`]). Below the program, which holds it.
//!
//! Every engine gives the same streams for every profile: the differential
//! test, `tests/specialise.rs` and the fuzzer's `eval` target run each of
//! `Engine::ALL` and hold them equal.

/// Declares [`Engine`] and `Engine::ALL` from one list, so that an engine
/// added to the enum is in `ALL`, and every test that compares the engines
/// runs it too.
macro_rules! engines {
    ($($(#[$doc:meta])* $engine:ident,)*) => {
        /// Which evaluator runs a program's profiles.
        // `Plain`, `NativeInPart` and `NativeChunked` are chosen only
        // through the `internals` hooks (`Builder::engine`,
        // `RuleSet::with_engine`), for the tests that compare the engines.
        #[cfg_attr(not(feature = "internals"), allow(dead_code))]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub enum Engine {
            $($(#[$doc])* $engine,)*
        }

        impl Engine {
            /// Every engine, the default first.
            #[cfg(any(test, feature = "internals"))]
            pub const ALL: &'static [Engine] = &[$(Engine::$engine),*];
        }
    };
}

engines! {
    /// Native code (feature `jit`) where the rule set allows it: whole for
    /// a small rule set, for the rules outside the larger indexes
    /// otherwise; the specialised interpreter where it does not. The
    /// default, and what `narval assign` runs.
    #[default]
    Native,
    /// The specialised interpreter over the indexes, without native code:
    /// for machines that forbid executable memory, and what native code is
    /// tested against.
    Interpreted,
    /// Every rule in turn by the general evaluator, without the indexes and
    /// the specialised conditions: the plain reference the others are tested
    /// against.
    Plain,
    /// Native code for the rules outside the indexes only, the interpreter
    /// walking every index and calling native code for every other
    /// residual, as for a rule set too large to be native whole, whatever
    /// its size (tests of that path).
    NativeInPart,
    /// Native code whole, with one rule and one requirement to a function,
    /// as a large rule set is cut into chunks (tests of that path).
    NativeChunked,
}

impl Engine {
    /// Whether the engine runs native code, whole or in part, when the
    /// build and the rule set allow it (feature `jit`).
    #[cfg(any(test, feature = "internals"))]
    pub fn runs_native_code(self) -> bool {
        match self {
            Engine::Native | Engine::NativeInPart | Engine::NativeChunked => true,
            Engine::Interpreted | Engine::Plain => false,
        }
    }
}
