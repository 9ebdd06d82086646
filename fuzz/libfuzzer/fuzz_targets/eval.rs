//! The `eval` target of `fuzz/src/targets.rs` under libFuzzer.
#![no_main]

#[allow(dead_code)]
#[path = "../../src/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::Target::Eval.run(data);
});
