//! Work counted, never timed: a global allocator that counts the bytes
//! each thread allocates, so a test can bound what a rule file costs
//! whatever the machine's speed. A test binary that uses it declares
//!
//! ```ignore
//! mod counting;
//! #[global_allocator]
//! static ALLOCATOR: counting::Counting = counting::Counting;
//! ```
#![allow(dead_code)]
// A global allocator is `unsafe` to implement; it only forwards to the
// system's (the SAFETY comment below).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting.
pub struct Counting;

thread_local! {
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// count is a const-initialised thread-local `Cell`, which allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = BYTES.try_with(|b| b.set(b.get().saturating_add(layout.size() as u64)));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = BYTES.try_with(|b| b.set(b.get().saturating_add(new_size as u64)));
        System.realloc(ptr, layout, new_size)
    }
}

/// The bytes allocated on this thread while `f` runs, and its result.
pub fn allocated<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = BYTES.with(Cell::get);
    let result = f();
    (BYTES.with(Cell::get) - before, result)
}

/// The bytes allocated on this thread while `f` runs.
pub fn bytes(f: impl FnOnce()) -> u64 {
    allocated(f).0
}
