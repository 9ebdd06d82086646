//! A stack deep enough for every walk of a rule set the limits allow.

/// Stack of the thread that checks, compiles, explains and tests a rule
/// set. The syntax bounds how deep one expression nests (64 levels, 256
/// operators), but the walks that follow definitions go through up to 32 of
/// them, one inside another: the deepest rule set the limits allow needs
/// about 130 MiB of stack in a debug build, far more than the 2 MiB of a
/// spawned thread or the 8 MiB of a main thread. The memory is only
/// reserved; pages are used as the walks reach them.
pub(crate) const DEEP_STACK: usize = 256 * 1024 * 1024;

/// `f` on a scoped thread with a stack of [`DEEP_STACK`], so that no rule
/// file within the limits overflows the caller's stack, whatever thread an
/// embedder calls from. Where no thread can be started, `f` runs on the
/// caller's thread. A panic in `f` is resumed on the caller's thread.
// INVARIANT: every recursive walk of a rule set (check, compile, native
// code, lineage and policies, explain, the test runner) runs under this:
// the entry points of `Builder` and `RuleSet::explain_decoded`, and
// `Suite::run`. Evaluation (`assign`) runs a flat program and needs none.
pub(crate) fn on_deep_stack<R: Send>(f: impl Fn() -> R + Sync) -> R {
    let f = &f;
    let spawned = std::thread::scope(|scope| {
        let worker =
            std::thread::Builder::new().name(String::from("narval")).stack_size(DEEP_STACK).spawn_scoped(scope, f);
        worker.ok().map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    spawned.unwrap_or_else(f)
}
