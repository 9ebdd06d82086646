//! Generates a rule set's function: the specialised conditions of
//! [`crate::eval::specialise`] as Cranelift IR.
//!
//! A truth is an `i8`: 0 false, 1 true, 2 unknown ([`crate::eval::native::code::TRUE`] ...).
//! Every test is generated into the current block and leaves its truth in
//! the block it ends in; a leaf that finds its field missing, or of another
//! kind than it compares, jumps to its "unknown" block.
//!
//! The semantics encoded are [`crate::eval::logic`]'s, the one definition
//! the interpreter calls: `and`/`or` are [`crate::eval::logic::Connective`]
//! as branches (an operand that decides jumps to the whole's block, an
//! unknown one is remembered), `not` swaps the true and false blocks, and a
//! comparison is [`crate::eval::logic::holds`] as a machine condition code
//! on the operands' order ([`crate::eval::logic::order`]; decoded numbers
//! are never `NaN`). Code cannot call those functions, so
//! `tests/specialise.rs`, `tests/differential.rs` and the fuzzer's `eval`
//! target hold the two equal.

use std::mem::offset_of;

use cranelift_codegen::entity::EntityRef;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F64, I128, I32, I64, I8};
use cranelift_codegen::ir::{AbiParam, Block, InstBuilder, MemFlags, SigRef, Signature, Type, Value as V};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};

use crate::eval::fused::{masks, Condition, Conditions, IntKind, Operand};
use crate::eval::native::code::{Check, Code, Entry, Frame, Memory, CHUNK, FALSE, MAX_RULES, TRUE, UNKNOWN};
use crate::eval::node::{ConstSet, Node, Scalar};
use crate::eval::program::Program;
use crate::ir::AggregateFn;
use crate::ir::{Base as NodeBase, CmpOp};

/// [`crate::decode::Value`]'s tags and where its payload lies.
mod tag {
    pub const MISSING: i64 = 0;
    pub const BOOL: i64 = 1;
    pub const INT: i64 = 2;
    pub const NUMBER: i64 = 3;
    pub const MONEY: i64 = 4;
    pub const STRING: i64 = 5;
    pub const DATE: i64 = 6;
    pub const ENUM: i64 = 7;
    pub const LIST: i64 = 8;
    pub const RECORD: i64 = 9;
    /// Offset of the payload; a slice's length follows its start.
    pub const PAYLOAD: i32 = 8;
    pub const SPAN_LEN: i32 = 12;
    /// log2 of the size of a value.
    pub const SHIFT: i64 = 4;
}

/// Constants compared in line, byte by byte; longer ones call back.
const MAX_INLINE_STRING: usize = 64;
/// Constant lists tested in line, item by item; longer ones call back.
const MAX_INLINE_SET: usize = 16;

fn error(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Generates and loads a program's function.
///
/// `all`: native whole; `chunk`: rules to a function; `walk_from`: the
/// fewest rules of an index the interpreter walks ([`crate::eval::native::code::WALKED_INDEX`]);
/// `every_other`: only every other residual generated (the interpreter
/// evaluates the others, as past [`MAX_RESIDUALS`]), for tests.
pub(super) fn generate(
    program: &Program,
    all: bool,
    chunk: usize,
    walk_from: usize,
    every_other: bool,
) -> Result<Code, String> {
    let shape = Shape { all, walk_from, every_other };
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(error)?;
    // The verifier checks the generated IR (what a bug here would break):
    // on in debug builds, which the tests and the fuzzer run; off in
    // release, where it would add a fifth to the time of generating.
    let verify = if cfg!(debug_assertions) { "true" } else { "false" };
    flags.set("enable_verifier", verify).map_err(error)?;
    flags.set("use_colocated_libcalls", "false").map_err(error)?;
    flags.set("is_pic", "false").map_err(error)?;
    let isa = cranelift_native::builder().map_err(error)?.finish(settings::Flags::new(flags)).map_err(error)?;
    if isa.pointer_type() != I64 {
        return Err("native code needs 64-bit pointers".to_owned());
    }
    let call_conv = isa.default_call_conv();
    let mut memory = Memory(Some(JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()))));
    let module = memory.0.as_mut().ok_or("no module")?;
    let mut signature = Signature::new(call_conv);
    signature.params.push(AbiParam::new(I64));
    let entry_id = module.declare_function("narval_rules", Linkage::Local, &signature).map_err(error)?;
    // Each cached test the code reaches (a shared leaf, a boolean
    // definition) is a function of its own, called the first time a
    // profile needs it: its code is generated once however many tests use
    // it, so definitions built on definitions stay linear.
    signature.returns.push(AbiParam::new(I8));
    let mut functions = Vec::new();
    for (slot, _) in cached_conditions(program, shape) {
        let id =
            module.declare_function(&format!("narval_cached_{slot}"), Linkage::Local, &signature).map_err(error)?;
        functions.push((slot, id));
    }
    // Each list mask's function, in the cache slots after the definitions'.
    let lists = list_masks(program);
    let lists_at = program.fused.shared.len() + program.fused.definitions.len();
    for k in 0..lists.len() {
        let id = module.declare_function(&format!("narval_list_{k}"), Linkage::Local, &signature).map_err(error)?;
        functions.push((lists_at + k, id));
    }
    let mut parts =
        Parts { module, context: None, builder: FunctionBuilderContext::new(), callbacks: Vec::new(), lists: &lists };
    let mut root_needed = 0;
    for (slot, test) in cached_conditions(program, shape) {
        let Some(&(_, id)) = functions.iter().find(|(s, _)| *s == slot) else { continue };
        root_needed = root_needed.max(parts.define(program, id, &functions, Body::Cached(slot, test))?);
    }
    for k in 0..lists.len() {
        let Some(&(_, id)) = functions.iter().find(|(s, _)| *s == lists_at + k) else { continue };
        root_needed = root_needed.max(parts.define(program, id, &functions, Body::List(k))?);
    }
    // The residuals of the rules found through indexes, a function each,
    // which the interpreter calls as it finds the rules.
    let mut residual_ids = Vec::new();
    for (index, test) in residuals(program, shape) {
        let id = parts
            .module
            .declare_function(&format!("narval_residual_{index}"), Linkage::Local, &signature)
            .map_err(error)?;
        root_needed = root_needed.max(parts.define(program, id, &functions, Body::Residual(test))?);
        residual_ids.push((index, id));
    }
    let mut requirements_id = None;
    // The rules and requirements in functions of at most `CHUNK`: the time
    // Cranelift takes grows faster than the size of a function.
    let chunk = chunk.max(1);
    if all && chunk == CHUNK && program.rules.len() <= WHOLE_RULES && program.requirements.len() <= CHUNK {
        // Small enough for one function: no calls, the streams in registers.
        parts.define(program, entry_id, &functions, Body::Whole { root_needed })?;
    } else {
        let rules: Vec<u32> = match all {
            true => (0..u32::try_from(program.rules.len()).unwrap_or(0)).collect(),
            false => entry_rules(program, walk_from),
        };
        signature.returns.clear();
        let mut calls = Vec::new();
        for (n, rules) in rules.chunks(chunk).enumerate() {
            let id = parts
                .module
                .declare_function(&format!("narval_rules_{n}"), Linkage::Local, &signature)
                .map_err(error)?;
            root_needed = root_needed.max(parts.define(program, id, &functions, Body::Rules(rules))?);
            calls.push(id);
        }
        let mut requirement_calls = Vec::new();
        {
            for (n, start) in (0..program.requirements.len()).step_by(chunk).enumerate() {
                let id = parts
                    .module
                    .declare_function(&format!("narval_requirements_{n}"), Linkage::Local, &signature)
                    .map_err(error)?;
                let range = start..(start + chunk).min(program.requirements.len());
                root_needed = root_needed.max(parts.define(program, id, &functions, Body::Requirements(range))?);
                requirement_calls.push(id);
            }
        }
        let body = Body::Entry { root_needed, rules: &calls, requirements: all.then_some(&requirement_calls[..]) };
        parts.define(program, entry_id, &functions, body)?;
        if !all {
            // The requirements, called after the interpreter: on the
            // streams in output words 0 to 3 (none suppressed in 4 to 7).
            let id = parts.module.declare_function("narval_requirements", Linkage::Local, &signature).map_err(error)?;
            let body = Body::Entry { root_needed, rules: &[], requirements: Some(&requirement_calls[..]) };
            parts.define(program, id, &functions, body)?;
            requirements_id = Some(id);
        }
    }
    let module = parts.module;
    module.finalize_definitions().map_err(error)?;
    let pointer = module.get_finalized_function(entry_id);
    // SAFETY: `pointer` is the finalized code of a function declared with
    // the signature of `Entry` (one pointer argument, no result, the
    // platform's C calling convention).
    let entry = unsafe { std::mem::transmute::<*const u8, Entry>(pointer) };
    let requirements = requirements_id.map(|id| {
        let pointer = module.get_finalized_function(id);
        // SAFETY: as for the entry, whose signature it has.
        unsafe { std::mem::transmute::<*const u8, Entry>(pointer) }
    });
    let mut residuals = vec![None; program.fused.residuals.len()];
    for (index, id) in residual_ids {
        let pointer = module.get_finalized_function(id);
        // SAFETY: the finalized code of a function declared with the
        // signature of `Check` (one pointer argument, an `i8` result, the
        // platform's C calling convention).
        let check = unsafe { std::mem::transmute::<*const u8, Check>(pointer) };
        if let Some(slot) = residuals.get_mut(index) {
            *slot = Some(check);
        }
    }
    let cache = lists_at + lists.len();
    let callbacks = parts.callbacks;
    let numbers = program.definitions.len() + lists.len();
    Ok(Code { entry, callbacks, cache, numbers, all, requirements, walk_from, residuals, _memory: memory })
}

/// A list of strings that tests look into for several constants from the
/// root record (`issues contains "jobs"`, `issues contains "veterans"`,
/// ...): scanned once per profile into a mask of the constants it holds
/// (bit `i` for `items[i]`), which each test then reads, instead of one
/// scan per constant.
pub(super) struct ListMask {
    path: Box<[u32]>,
    items: Vec<Box<str>>,
}

/// Constants a list mask holds: the bits of its number.
const MASK_ITEMS: usize = 64;

/// The list masks worth keeping: every list looked into for at least two
/// constants (each short enough to compare in line) by the program's tests
/// from the root record (not by filters, which read elements), in order of
/// first use.
fn list_masks(program: &Program) -> Vec<ListMask> {
    let fused = &program.fused;
    let mut lists: Vec<ListMask> = Vec::new();
    let mut stack: Vec<&Condition> = fused.rules.iter().chain(&fused.requirements).chain(&fused.residuals).collect();
    stack.extend(fused.shared.iter().chain(fused.definitions.iter().flatten()));
    stack.reverse();
    while let Some(test) = stack.pop() {
        match test {
            Condition::And(items) | Condition::Or(items) => stack.extend(items.iter().rev()),
            Condition::Not(inner) => stack.push(inner),
            Condition::ListHas { path, item } if item.len() <= MAX_INLINE_STRING => {
                match lists.iter_mut().find(|list| list.path == *path) {
                    Some(list) if list.items.contains(item) || list.items.len() >= MASK_ITEMS => {}
                    Some(list) => list.items.push(item.clone()),
                    None => lists.push(ListMask { path: path.clone(), items: vec![item.clone()] }),
                }
            }
            _ => {}
        }
    }
    lists.retain(|list| list.items.len() > 1);
    lists
}

/// Most residuals generated: a rule set with more distinct ones evaluates
/// the others on the interpreter.
const MAX_RESIDUALS: usize = MAX_RULES;

/// Which conditions a program's code covers.
#[derive(Clone, Copy)]
struct Shape {
    all: bool,
    walk_from: usize,
    every_other: bool,
}

/// The residuals native code evaluates for a program native in part
/// (none for one native whole): those of the rules found through indexes
/// but constant ones, by index in [`Conditions::residuals`].
fn residuals(program: &Program, shape: Shape) -> Vec<(usize, &Condition)> {
    let Shape { all, walk_from, every_other } = shape;
    if all {
        return Vec::new();
    }
    let fused = &program.fused;
    let entry = entry_rules(program, walk_from);
    let mut always = entry.iter().peekable();
    let mut used = std::collections::BTreeSet::new();
    for rule in 0..u32::try_from(fused.rules.len()).unwrap_or(0) {
        if always.next_if_eq(&&rule).is_some() {
            continue;
        }
        if let Some((index, test)) = fused.residual(rule as usize) {
            if !matches!(test, Condition::Known(_)) {
                used.insert(index as usize);
            }
        }
    }
    let generated = used.into_iter().filter(|index| !every_other || index % 2 == 0);
    generated.take(MAX_RESIDUALS).filter_map(|index| Some((index, fused.residuals.get(index)?))).collect()
}

/// The cached tests the code of a program reaches, by cache slot: shared
/// leaves first, then boolean definitions ([`Gen::definitions_at`]).
fn cached_conditions(program: &Program, shape: Shape) -> Vec<(usize, &Condition)> {
    let Shape { all, walk_from, .. } = shape;
    let fused = &program.fused;
    let mut stack: Vec<&Condition> = if all {
        fused.rules.iter().collect()
    } else {
        entry_rules(program, walk_from).into_iter().filter_map(|r| fused.rules.get(r as usize)).collect()
    };
    stack.extend(residuals(program, shape).into_iter().map(|(_, test)| test));
    stack.extend(&fused.requirements);
    // The filters of sums, which comparisons reach.
    stack.extend(
        (0..u32::try_from(program.definitions.len()).unwrap_or(0))
            .filter_map(|i| sum(program, i).and_then(|s| s.filter)),
    );
    let mut found = std::collections::BTreeMap::new();
    let definitions_at = fused.shared.len();
    while let Some(test) = stack.pop() {
        match test {
            Condition::And(items) | Condition::Or(items) => stack.extend(items.iter()),
            Condition::Not(inner) => stack.push(inner),
            Condition::Quantifier { filter, .. } | Condition::Count { filter: Some(filter), .. } => stack.push(filter),
            Condition::Shared(index) => {
                if let Some(leaf) = fused.shared.get(*index as usize) {
                    if found.insert(*index as usize, leaf).is_none() {
                        stack.push(leaf);
                    }
                }
            }
            Condition::Def(index) => {
                if let Some(Some(definition)) = fused.definitions.get(*index as usize) {
                    if found.insert(definitions_at + *index as usize, definition).is_none() {
                        stack.push(definition);
                    }
                }
            }
            _ => {}
        }
    }
    found.into_iter().collect()
}

/// Rules of a program native whole in a single function, with no calls and
/// the streams in registers: past 32 (the campaign's 23 and 10 more) the
/// chunks' calls and stores cost a tenth of the evaluation, and a function
/// of 64 rules still compiles in milliseconds.
const WHOLE_RULES: usize = 2 * CHUNK;

/// What a generated function computes.
enum Body<'t> {
    /// Checks the root record has the `root_needed` fields the code reads
    /// without checking, calls the functions of the rules, and for a
    /// program native whole, keeps the assigned streams none suppressed
    /// and calls the functions of the requirements.
    Entry {
        root_needed: u32,
        rules: &'t [cranelift_module::FuncId],
        requirements: Option<&'t [cranelift_module::FuncId]>,
    },
    /// The whole program in one function, with the entry's check.
    Whole { root_needed: u32 },
    /// Some rules, by index.
    Rules(&'t [u32]),
    /// Some requirements, by index.
    Requirements(std::ops::Range<usize>),
    /// One cached test: computes it, stores it in its cache slot and
    /// returns it.
    Cached(usize, &'t Condition),
    /// One residual of rules found through an index: computes it and
    /// returns it.
    Residual(&'t Condition),
    /// One list mask, by index: scans the list, stores the mask and its
    /// cache byte, and returns whether it is known.
    List(usize),
}

/// What generating the functions of one program shares.
struct Parts<'m> {
    module: &'m mut JITModule,
    context: Option<cranelift_codegen::Context>,
    builder: FunctionBuilderContext,
    callbacks: Vec<Condition>,
    lists: &'m [ListMask],
}

impl Parts<'_> {
    /// Generates and defines one function; returns how many root fields
    /// it reads without checking.
    fn define(
        &mut self,
        program: &Program,
        id: cranelift_module::FuncId,
        functions: &[(usize, cranelift_module::FuncId)],
        body: Body<'_>,
    ) -> Result<u32, String> {
        let mut context = self.context.take().unwrap_or_else(|| self.module.make_context());
        let call_conv = self.module.isa().default_call_conv();
        context.func.signature.params.push(AbiParam::new(I64));
        context.func.signature.call_conv = call_conv;
        if let Body::Cached(..) | Body::Residual(_) | Body::List(_) = body {
            context.func.signature.returns.push(AbiParam::new(I8));
        }
        let mut cached = std::collections::HashMap::new();
        for &(slot, function) in functions {
            cached.insert(slot, self.module.declare_func_in_func(function, &mut context.func));
        }
        let mut callees = |ids: &[cranelift_module::FuncId]| {
            ids.iter().map(|&id| self.module.declare_func_in_func(id, &mut context.func)).collect::<Vec<_>>()
        };
        let (rule_calls, requirement_calls) = match &body {
            Body::Entry { rules, requirements, .. } => (callees(rules), requirements.map(&mut callees)),
            _ => (Vec::new(), None),
        };
        let root_needed = {
            let mut b = FunctionBuilder::new(&mut context.func, &mut self.builder);
            let mut signature = Signature::new(call_conv);
            signature.params.extend([AbiParam::new(I64), AbiParam::new(I32)]);
            signature.returns.push(AbiParam::new(I8));
            let sig = b.import_signature(signature);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let frame = *b.block_params(entry).first().ok_or("no frame")?;
            let field = |b: &mut FunctionBuilder, offset: usize| {
                b.ins().load(I64, MemFlags::trusted(), frame, i32::try_from(offset).unwrap_or(i32::MAX))
            };
            let values = field(&mut b, offset_of!(Frame, values));
            let values_len = field(&mut b, offset_of!(Frame, values_len));
            let text = field(&mut b, offset_of!(Frame, text));
            let text_len = field(&mut b, offset_of!(Frame, text_len));
            let root_len = field(&mut b, offset_of!(Frame, root_len));
            let cache = field(&mut b, offset_of!(Frame, cache));
            let env = field(&mut b, offset_of!(Frame, env));
            let callback = field(&mut b, offset_of!(Frame, callback));
            let numbers = field(&mut b, offset_of!(Frame, numbers));
            let zero = b.ins().iconst(I64, 0);
            let (check, start) = (b.create_block(), b.create_block());
            b.ins().jump(check, &[]);
            b.switch_to_block(start);
            let mut gen = Gen {
                b,
                program,
                frame,
                numbers,
                root_needed: 0,
                values,
                values_len,
                text,
                text_len,
                root: Base { start: zero, len: root_len, root: true },
                cache,
                env,
                callback,
                sig,
                fused: &program.fused,
                callbacks: &mut self.callbacks,
                cached,
                definitions_at: program.fused.shared.len(),
                lists: self.lists,
                failed: None,
                variables: 0,
            };
            gen.b.switch_to_block(check);
            match body {
                Body::Entry { root_needed, .. } => {
                    gen.check_root(frame, root_len, root_needed, start);
                    for call in rule_calls {
                        gen.b.ins().call(call, &[frame]);
                    }
                    if let Some(requirement_calls) = requirement_calls {
                        // The streams assigned and not suppressed, which
                        // the requirements then narrow.
                        for w in 0..4 {
                            let out = |w: usize| i32::try_from(offset_of!(Frame, out) + 8 * w).unwrap_or(i32::MAX);
                            let a = gen.b.ins().load(I64, MemFlags::trusted(), frame, out(w));
                            let s = gen.b.ins().load(I64, MemFlags::trusted(), frame, out(4 + w));
                            let kept = gen.b.ins().band_not(a, s);
                            gen.b.ins().store(MemFlags::trusted(), kept, frame, out(w));
                        }
                        for call in requirement_calls {
                            gen.b.ins().call(call, &[frame]);
                        }
                    }
                    gen.b.ins().return_(&[]);
                }
                Body::Whole { root_needed } => {
                    // Every root field the rules and requirements may read
                    // (the walk over-counts, which only bails out more).
                    let fused = &program.fused;
                    let reach = fused.rules.iter().chain(&fused.requirements).map(root_reach).max().unwrap_or(0);
                    let sums = (0..u32::try_from(program.definitions.len()).unwrap_or(0))
                        .filter_map(|i| sum(program, i))
                        .filter_map(|sum| sum.list.first().map(|&slot| slot.saturating_add(1)))
                        .max()
                        .unwrap_or(0);
                    let needed = root_needed.max(reach).max(sums);
                    gen.check_root(frame, root_len, needed, start);
                    gen.whole(program, frame);
                    if gen.root_needed > needed {
                        return Err("a root field read past the entry's check".to_owned());
                    }
                }
                Body::Rules(rules) => {
                    gen.b.ins().jump(start, &[]);
                    gen.b.switch_to_block(start);
                    gen.rules(program, frame, rules);
                }
                Body::Requirements(range) => {
                    gen.b.ins().jump(start, &[]);
                    gen.b.switch_to_block(start);
                    gen.requirements(program, frame, range);
                }
                Body::Cached(slot, test) => {
                    // Called only from the entry, past its check.
                    gen.b.ins().jump(start, &[]);
                    gen.b.switch_to_block(start);
                    let Ok(offset) = i32::try_from(slot) else { return Err("cache too large".to_owned()) };
                    let stores = Targets { t: gen.b.create_block(), f: gen.b.create_block(), u: gen.b.create_block() };
                    let root = gen.root;
                    gen.branch(test, root, true, stores);
                    for (block, truth) in [(stores.t, TRUE), (stores.f, FALSE), (stores.u, UNKNOWN)] {
                        gen.b.switch_to_block(block);
                        let byte = gen.b.ins().iconst(I8, truth + 1);
                        gen.b.ins().store(MemFlags::trusted(), byte, gen.cache, offset);
                        let value = gen.b.ins().iconst(I8, truth);
                        gen.b.ins().return_(&[value]);
                    }
                    if let Some(failed) = gen.failed.take() {
                        return Err(failed);
                    }
                }
                Body::List(k) => {
                    gen.b.ins().jump(start, &[]);
                    gen.b.switch_to_block(start);
                    gen.list_mask(k);
                }
                Body::Residual(test) => {
                    // Called after the entry, which passed its check.
                    gen.b.ins().jump(start, &[]);
                    gen.b.switch_to_block(start);
                    let returns = Targets { t: gen.b.create_block(), f: gen.b.create_block(), u: gen.b.create_block() };
                    let root = gen.root;
                    gen.branch(test, root, true, returns);
                    for (block, truth) in [(returns.t, TRUE), (returns.f, FALSE), (returns.u, UNKNOWN)] {
                        gen.b.switch_to_block(block);
                        let value = gen.b.ins().iconst(I8, truth);
                        gen.b.ins().return_(&[value]);
                    }
                }
            }
            if let Some(failed) = gen.failed.take() {
                return Err(failed);
            }
            gen.b.seal_all_blocks();
            let needed = gen.root_needed;
            gen.b.finalize();
            needed
        };
        self.module.define_function(id, &mut context).map_err(|e| format!("{e:?}"))?;
        self.module.clear_context(&mut context);
        self.context = Some(context);
        Ok(root_needed)
    }
}

/// The values of a record: `len` fields from index `start`.
#[derive(Clone, Copy)]
struct Base {
    start: V,
    len: V,
    /// The profile's root record, at the start of the values and at least
    /// [`Gen::root_needed`] long.
    root: bool,
}

struct Gen<'g, 'f> {
    b: FunctionBuilder<'f>,
    program: &'g Program,
    frame: V,
    numbers: V,
    /// Fields of the root record the code reads without checking: the
    /// entry bails out when the record is shorter.
    root_needed: u32,
    values: V,
    values_len: V,
    text: V,
    text_len: V,
    root: Base,
    cache: V,
    env: V,
    callback: V,
    sig: SigRef,
    fused: &'g Conditions,
    callbacks: &'g mut Vec<Condition>,
    /// The function of each cached test, by cache slot.
    cached: std::collections::HashMap<usize, cranelift_codegen::ir::FuncRef>,
    /// Cache byte of definition 0; shared leaves come first.
    definitions_at: usize,
    /// The list masks, whose cache bytes follow the definitions' and whose
    /// numbers follow theirs.
    lists: &'g [ListMask],
    /// Set when a test cannot be generated: the program keeps to the
    /// interpreter.
    failed: Option<String>,
    /// Variables declared so far.
    variables: usize,
}

/// [`crate::eval::logic::holds`] on two integers, as a condition code.
fn int_cc(op: CmpOp) -> IntCC {
    match op {
        CmpOp::Eq => IntCC::Equal,
        CmpOp::Ne => IntCC::NotEqual,
        CmpOp::Lt => IntCC::SignedLessThan,
        CmpOp::Le => IntCC::SignedLessThanOrEqual,
        CmpOp::Gt => IntCC::SignedGreaterThan,
        CmpOp::Ge => IntCC::SignedGreaterThanOrEqual,
    }
}

/// [`crate::eval::logic::holds`] on two numbers (never `NaN`), as a
/// condition code.
fn float_cc(op: CmpOp) -> FloatCC {
    match op {
        CmpOp::Eq => FloatCC::Equal,
        CmpOp::Ne => FloatCC::NotEqual,
        CmpOp::Lt => FloatCC::LessThan,
        CmpOp::Le => FloatCC::LessThanOrEqual,
        CmpOp::Gt => FloatCC::GreaterThan,
        CmpOp::Ge => FloatCC::GreaterThanOrEqual,
    }
}

/// A constant list's members when it is tested in line: strings, or
/// integers (sorted, so that the code does not depend on hashing).
enum Members<'s> {
    Strings(Vec<&'s [u8]>),
    Integers(Vec<i64>),
}

fn members(set: &ConstSet) -> Option<Members<'_>> {
    fn strings(items: Vec<&[u8]>) -> Option<Vec<&[u8]>> {
        (items.len() <= MAX_INLINE_SET && items.iter().all(|s| s.len() <= MAX_INLINE_STRING)).then_some(items)
    }
    match set {
        ConstSet::FewStrings(items) => strings(items.iter().map(|s| s.as_bytes()).collect()).map(Members::Strings),
        ConstSet::Strings(items) => {
            let mut items: Vec<&[u8]> = items.iter().map(|s| s.as_bytes()).collect();
            items.sort_unstable();
            strings(items).map(Members::Strings)
        }
        ConstSet::Integers(items) if items.len() <= MAX_INLINE_SET => {
            let mut items: Vec<i64> = items.iter().copied().collect();
            items.sort_unstable();
            Some(Members::Integers(items))
        }
        ConstSet::Integers(_) | ConstSet::Numbers(_) => None,
    }
}

/// A definition computed natively as a number: `sum(list.path)` of `int`
/// or `money` over a list field of the profile, with a filter generated
/// natively if any.
struct Sum<'p> {
    list: &'p [u32],
    projection: &'p [u32],
    filter: Option<&'p Condition>,
    kind: IntKind,
}

fn sum(program: &Program, index: u32) -> Option<Sum<'_>> {
    let root = *program.definitions.get(index as usize)?;
    let Some(Node::Aggregate(agg)) = program.nodes.get(root as usize) else { return None };
    let kind = match (agg.func, &agg.zero) {
        (AggregateFn::Sum, Scalar::Money(_)) => IntKind::Money,
        (AggregateFn::Sum, Scalar::Int(_)) => IntKind::Int,
        _ => return None,
    };
    let Some(Node::Field { base: NodeBase::Profile, path: list }) = program.nodes.get(agg.list as usize) else {
        return None;
    };
    let filter = match (agg.filter, agg.fused_filter.as_deref()) {
        (None, _) => None,
        (Some(_), Some(test)) if native(program, test) => Some(test),
        (Some(_), _) => return None,
    };
    (!list.is_empty() && !agg.projection.is_empty()).then_some(Sum { list, projection: &agg.projection, filter, kind })
}

/// A comparison of a [`Sum`] definition with a constant of its kind: the
/// definition, the operator with the definition on the left, the constant.
fn sum_compare(program: &Program, op: CmpOp, a: &Operand, b: &Operand) -> Option<(u32, CmpOp, i64)> {
    let (index, op, constant) = match (a, b) {
        (Operand::Def(index), Operand::Const(c)) => (*index, op, c),
        (Operand::Const(c), Operand::Def(index)) => (*index, op.flipped(), c),
        _ => return None,
    };
    let kind = sum(program, index)?.kind;
    match (kind, constant) {
        (IntKind::Money, Scalar::Money(c)) | (IntKind::Int, Scalar::Int(c)) => Some((index, op, *c)),
        _ => None,
    }
}

/// Whether a test is generated without calling back, so that it may read
/// an aggregate's element (a callback reads the profile's root only).
fn native(program: &Program, test: &Condition) -> bool {
    let native = |test: &Condition| native(program, test);
    match test {
        Condition::Known(_)
        | Condition::Bool(_)
        | Condition::Int { .. }
        | Condition::IntBetween { .. }
        | Condition::FieldMissing(_)
        | Condition::Def(_)
        | Condition::Shared(_) => true,
        Condition::Number { constant, .. } => !constant.is_nan(),
        Condition::NumberBetween { low, high, .. } => !low.is_nan() && !high.is_nan(),
        Condition::Str { op, constant, .. } => {
            matches!(op, CmpOp::Eq | CmpOp::Ne) && constant.len() <= MAX_INLINE_STRING
        }
        Condition::ListHas { item, .. } => item.len() <= MAX_INLINE_STRING,
        Condition::FieldIn { set, .. } => set.is_empty() || members(set).is_some(),
        Condition::And(items) | Condition::Or(items) => items.iter().all(native),
        Condition::Not(inner) => native(inner),
        Condition::Quantifier { filter, .. } => native(filter),
        Condition::Count { filter, .. } => filter.as_deref().map_or(true, native),
        Condition::Compare(op, a, b) => sum_compare(program, *op, a, b).is_some(),
        Condition::InSet(..) | Condition::Missing(_) | Condition::Node(_) => false,
    }
}

/// Whether a test uses a cached test (a shared leaf, a boolean
/// definition), its filters' included.
fn reaches_cached(test: &Condition) -> bool {
    match test {
        Condition::Shared(_) | Condition::Def(_) => true,
        Condition::And(items) | Condition::Or(items) => items.iter().any(reaches_cached),
        Condition::Not(inner) => reaches_cached(inner),
        Condition::Quantifier { filter, .. } | Condition::Count { filter: Some(filter), .. } => reaches_cached(filter),
        // A comparison of a sum reads its filter.
        Condition::Compare(..) => true,
        _ => false,
    }
}

/// One more than the highest root slot a test reads from its own record
/// (not its filters', which read elements, nor its cached tests', which
/// are functions of their own).
fn root_reach(test: &Condition) -> u32 {
    let first = |path: &[u32]| path.first().map_or(0, |&slot| slot.saturating_add(1));
    match test {
        Condition::And(items) | Condition::Or(items) => items.iter().map(root_reach).max().unwrap_or(0),
        Condition::Not(inner) => root_reach(inner),
        Condition::Bool(path)
        | Condition::Int { path, .. }
        | Condition::IntBetween { path, .. }
        | Condition::Number { path, .. }
        | Condition::NumberBetween { path, .. }
        | Condition::Str { path, .. }
        | Condition::ListHas { path, .. }
        | Condition::FieldMissing(path)
        | Condition::FieldIn { path, .. }
        | Condition::Quantifier { list: path, .. }
        | Condition::Count { list: path, .. } => first(path),
        _ => 0,
    }
}

/// Where a test goes when it is true, false or unknown.
#[derive(Clone, Copy, PartialEq)]
struct Targets {
    t: Block,
    f: Block,
    u: Block,
}

impl Gen<'_, '_> {
    /// The entry's check: on to `start` when the root record has the
    /// `needed` fields the code reads without checking, else out, the frame
    /// marked as bailed (the interpreter then evaluates the profile).
    fn check_root(&mut self, frame: V, root_len: V, needed: u32, start: Block) {
        let bail = self.b.create_block();
        let long_enough = self.b.ins().icmp_imm(IntCC::UnsignedGreaterThanOrEqual, root_len, i64::from(needed));
        self.b.ins().brif(long_enough, start, &[], bail, &[]);
        self.b.switch_to_block(bail);
        let one = self.b.ins().iconst(I64, 1);
        let at = i32::try_from(offset_of!(Frame, bailed)).unwrap_or(i32::MAX);
        self.b.ins().store(MemFlags::trusted(), one, frame, at);
        self.b.ins().return_(&[]);
        self.b.switch_to_block(start);
    }

    /// Words `at..at + words` of the frame's output, as variables.
    fn load_words(&mut self, frame: V, at: usize, words: usize) -> Vec<Variable> {
        (0..words)
            .map(|w| {
                let var = self.variable(I64);
                let offset = i32::try_from(offset_of!(Frame, out) + 8 * (at + w)).unwrap_or(i32::MAX);
                let value = self.b.ins().load(I64, MemFlags::trusted(), frame, offset);
                self.b.def_var(var, value);
                var
            })
            .collect()
    }

    fn store_words(&mut self, frame: V, at: usize, vars: &[Variable]) {
        for (w, &var) in vars.iter().enumerate() {
            let value = self.b.use_var(var);
            let offset = i32::try_from(offset_of!(Frame, out) + 8 * (at + w)).unwrap_or(i32::MAX);
            self.b.ins().store(MemFlags::trusted(), value, frame, offset);
        }
    }

    /// Some rules: each rule's test branches to a block that ors its
    /// streams into the assigned (output words 0 to 3) and suppressed (4
    /// to 7) streams.
    fn rules(&mut self, program: &Program, frame: V, rules: &[u32]) {
        let words = program.streams.div_ceil(64).min(4);
        let assigned = self.load_words(frame, 0, words);
        let suppressed = self.load_words(frame, 4, words);
        self.rules_into(rules, &assigned, &suppressed);
        self.store_words(frame, 0, &assigned);
        self.store_words(frame, 4, &suppressed);
        self.b.ins().return_(&[]);
    }

    /// Some rules, their streams ored into the variables.
    fn rules_into(&mut self, rules: &[u32], assigned: &[Variable], suppressed: &[Variable]) {
        let fused = self.fused;
        for &rule in rules {
            let (Some(test), Some(effects)) = (fused.rules.get(rule as usize), fused.effects.get(rule as usize)) else {
                continue;
            };
            let next = self.b.create_block();
            let or_into = |g: &mut Self, vars: &[Variable], masks: &[u64; 4]| {
                for (&var, &mask) in vars.iter().zip(masks) {
                    if mask != 0 {
                        let current = g.b.use_var(var);
                        let updated = g.b.ins().bor_imm(current, mask as i64);
                        g.b.def_var(var, updated);
                    }
                }
            };
            let (assigned, suppressed) = (assigned, suppressed);
            let assigns = effects.assigns.iter().any(|&m| m != 0);
            let suppresses = effects.suppresses.iter().any(|&m| m != 0);
            let t = if assigns || suppresses { self.b.create_block() } else { next };
            let u = if suppresses { self.b.create_block() } else { next };
            self.branch(test, self.root, true, Targets { t, f: next, u });
            if t != next {
                self.b.switch_to_block(t);
                or_into(self, assigned, &effects.assigns);
                or_into(self, suppressed, &effects.suppresses);
                self.b.ins().jump(next, &[]);
            }
            if u != next {
                self.b.switch_to_block(u);
                or_into(self, suppressed, &effects.suppresses);
                self.b.ins().jump(next, &[]);
            }
            self.b.switch_to_block(next);
            // Every block so far has all its predecessors: sealed now, the
            // variables resolve locally (left unsealed, each use would
            // look back through the whole function).
            self.b.seal_all_blocks();
        }
    }

    /// Some requirements, on the streams in output words 0 to 3. A
    /// requirement none of whose streams is left is not evaluated, as in
    /// `Program::guard`.
    fn requirements(&mut self, program: &Program, frame: V, requirements: std::ops::Range<usize>) {
        let words = program.streams.div_ceil(64).min(4);
        let result = self.load_words(frame, 0, words);
        self.requirements_into(program, requirements, &result);
        self.store_words(frame, 0, &result);
        self.b.ins().return_(&[]);
    }

    /// Some requirements, on the streams in the variables.
    fn requirements_into(&mut self, program: &Program, requirements: std::ops::Range<usize>, result: &[Variable]) {
        let fused = self.fused;
        let pairs = program.requirements.iter().zip(&fused.requirements);
        for (requirement, test) in pairs.skip(requirements.start).take(requirements.len()) {
            let masks = masks(&requirement.streams);
            let mut present = self.b.ins().iconst(I64, 0);
            for (&var, &mask) in result.iter().zip(&masks) {
                if mask != 0 {
                    let current = self.b.use_var(var);
                    let held = self.b.ins().band_imm(current, mask as i64);
                    present = self.b.ins().bor(present, held);
                }
            }
            let (check, remove, next) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
            self.b.ins().brif(present, check, &[], next, &[]);
            self.b.switch_to_block(check);
            self.branch(test, self.root, true, Targets { t: next, f: remove, u: remove });
            self.b.switch_to_block(remove);
            for (&var, &mask) in result.iter().zip(&masks) {
                if mask != 0 {
                    let current = self.b.use_var(var);
                    let kept = self.b.ins().band_imm(current, !mask as i64);
                    self.b.def_var(var, kept);
                }
            }
            self.b.ins().jump(next, &[]);
            self.b.switch_to_block(next);
            self.b.seal_all_blocks();
        }
    }

    /// A whole small program in the entry: the rules, the streams assigned
    /// and not suppressed, the requirements, stored to output words 0 to 3.
    fn whole(&mut self, program: &Program, frame: V) {
        let words = program.streams.div_ceil(64).min(4);
        let vars = |g: &mut Self| -> Vec<Variable> {
            (0..words)
                .map(|_| {
                    let var = g.variable(I64);
                    let zero = g.b.ins().iconst(I64, 0);
                    g.b.def_var(var, zero);
                    var
                })
                .collect()
        };
        let (assigned, suppressed) = (vars(self), vars(self));
        let rules: Vec<u32> = (0..u32::try_from(program.rules.len()).unwrap_or(0)).collect();
        self.rules_into(&rules, &assigned, &suppressed);
        for (&a, &s) in assigned.iter().zip(&suppressed) {
            let (a_value, s_value) = (self.b.use_var(a), self.b.use_var(s));
            let kept = self.b.ins().band_not(a_value, s_value);
            self.b.def_var(a, kept);
        }
        self.requirements_into(program, 0..program.requirements.len(), &assigned);
        self.store_words(frame, 0, &assigned);
        self.b.ins().return_(&[]);
    }

    fn variable(&mut self, ty: Type) -> Variable {
        let variable = Variable::new(self.variables);
        self.variables += 1;
        self.b.declare_var(variable, ty);
        variable
    }

    fn truth_const(&mut self, truth: i64) -> V {
        self.b.ins().iconst(I8, truth)
    }

    /// Gives up on native code for this program.
    fn fail(&mut self, why: &str) {
        self.failed.get_or_insert_with(|| why.to_owned());
    }

    /// Continues in a new block when `condition` holds, else jumps to
    /// `otherwise` (with `args`).
    fn require(&mut self, condition: V, otherwise: Block, args: &[V]) {
        let next = self.b.create_block();
        self.b.ins().brif(condition, next, &[], otherwise, args);
        self.b.switch_to_block(next);
    }

    fn load(&mut self, ty: Type, address: V, offset: i32) -> V {
        self.b.ins().load(ty, MemFlags::trusted(), address, offset)
    }

    fn tag(&mut self, address: V) -> V {
        self.load(I8, address, 0)
    }

    /// Continues when the value at `address` has tag `want`, else jumps to
    /// `otherwise`.
    fn expect(&mut self, address: V, want: i64, otherwise: Block) {
        let tag = self.tag(address);
        let is = self.b.ins().icmp_imm(IntCC::Equal, tag, want);
        self.require(is, otherwise, &[]);
    }

    /// A slice's start and length, as `i64`.
    fn slice(&mut self, address: V) -> (V, V) {
        let start = self.load(I32, address, tag::PAYLOAD);
        let len = self.load(I32, address, tag::SPAN_LEN);
        (self.b.ins().uextend(I64, start), self.b.ins().uextend(I64, len))
    }

    /// The address of value `index` (checked against the values' length
    /// by the caller).
    fn address(&mut self, index: V) -> V {
        let offset = self.b.ins().ishl_imm(index, tag::SHIFT);
        self.b.ins().iadd(self.values, offset)
    }

    /// The address of a field by slot path from `base`; jumps to `missing`
    /// when a step is not a record or out of range.
    fn slot(&mut self, base: Base, path: &[u32], missing: Block) -> V {
        let Some((&first, steps)) = path.split_first() else {
            self.b.ins().jump(missing, &[]);
            let dead = self.b.create_block();
            self.b.switch_to_block(dead);
            return self.b.ins().iconst(I64, 0);
        };
        let mut address = self.field(base, first, missing);
        for &step in steps {
            self.expect(address, tag::RECORD, missing);
            let (start, len) = self.slice(address);
            address = self.field(Base { start, len, root: false }, step, missing);
        }
        address
    }

    /// The address of field `slot` of a record.
    fn field(&mut self, base: Base, slot: u32, missing: Block) -> V {
        if base.root {
            self.root_needed = self.root_needed.max(slot.saturating_add(1));
            return self.b.ins().iadd_imm(self.values, i64::from(slot) << tag::SHIFT);
        }
        let has = self.b.ins().icmp_imm(IntCC::UnsignedGreaterThan, base.len, i64::from(slot));
        self.require(has, missing, &[]);
        let index = self.b.ins().iadd_imm(base.start, i64::from(slot));
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, index, self.values_len);
        self.require(inside, missing, &[]);
        self.address(index)
    }

    /// Whether the string of `len` bytes at `start` in the text is
    /// `constant` (an `i8` 0 or 1).
    fn bytes_equal(&mut self, start: V, len: V, constant: &[u8]) -> V {
        let done = self.b.create_block();
        let result = self.b.append_block_param(done, I8);
        let no = self.truth_const(FALSE);
        let same_len = self.b.ins().icmp_imm(IntCC::Equal, len, constant.len() as i64);
        self.require(same_len, done, &[no]);
        let end = self.b.ins().iadd_imm(start, constant.len() as i64);
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, self.text_len);
        self.require(inside, done, &[no]);
        let at = self.b.ins().iadd(self.text, start);
        let mut equal = self.truth_const(TRUE);
        let mut offset = 0;
        for size in [8, 4, 2, 1] {
            while constant.len() - offset >= size {
                let Some(chunk) = constant.get(offset..offset + size) else { break };
                // The chunk as the load reads it, zero-extended.
                let expected = chunk.iter().enumerate().fold(0u64, |word, (i, &byte)| {
                    if cfg!(target_endian = "little") {
                        word | u64::from(byte) << (8 * i)
                    } else {
                        word << 8 | u64::from(byte)
                    }
                });
                // Unaligned loads: the flags promise no alignment; the bounds
                // were checked above.
                let flags = MemFlags::new().with_readonly().with_notrap();
                let at_offset = i32::try_from(offset).unwrap_or(i32::MAX);
                let loaded = match size {
                    8 => self.b.ins().load(I64, flags, at, at_offset),
                    4 => self.b.ins().uload32(flags, at, at_offset),
                    2 => self.b.ins().uload16(I64, flags, at, at_offset),
                    _ => self.b.ins().uload8(I64, flags, at, at_offset),
                };
                let same = self.b.ins().icmp_imm(IntCC::Equal, loaded, expected as i64);
                equal = self.b.ins().band(equal, same);
                offset += size;
            }
        }
        self.b.ins().jump(done, &[equal]);
        self.b.switch_to_block(done);
        result
    }

    /// The integer of an integer-like value at `address`, by its tag:
    /// jumps to `otherwise` for other kinds.
    fn integer(&mut self, address: V, otherwise: Block) -> V {
        let join = self.b.create_block();
        let value = self.b.append_block_param(join, I64);
        let tag = self.tag(address);
        for (tags, ty, signed) in [
            ([tag::INT, tag::MONEY], I64, true),
            ([tag::DATE, tag::DATE], I32, true),
            ([tag::ENUM, tag::ENUM], I32, false),
            ([tag::BOOL, tag::BOOL], I8, false),
        ] {
            let a = self.b.ins().icmp_imm(IntCC::Equal, tag, tags[0]);
            let b = self.b.ins().icmp_imm(IntCC::Equal, tag, tags[1]);
            let is = self.b.ins().bor(a, b);
            let (this, next) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(is, this, &[], next, &[]);
            self.b.switch_to_block(this);
            let raw = self.load(ty, address, tag::PAYLOAD);
            let wide = match (ty == I64, signed) {
                (true, _) => raw,
                (false, true) => self.b.ins().sextend(I64, raw),
                (false, false) => self.b.ins().uextend(I64, raw),
            };
            self.b.ins().jump(join, &[wide]);
            self.b.switch_to_block(next);
        }
        self.b.ins().jump(otherwise, &[]);
        self.b.switch_to_block(join);
        value
    }

    /// Evaluates `test` by calling back into the interpreter.
    fn call_back(&mut self, test: &Condition, to: Targets) {
        let Ok(index) = u32::try_from(self.callbacks.len()) else {
            self.fail("too many callbacks");
            self.b.ins().jump(to.u, &[]);
            return;
        };
        self.callbacks.push(test.clone());
        let index = self.b.ins().iconst(I32, i64::from(index));
        let call = self.b.ins().call_indirect(self.sig, self.callback, &[self.env, index]);
        match self.b.inst_results(call).first() {
            Some(&truth) => self.dispatch(truth, to),
            None => {
                self.fail("callback without a result");
                self.b.ins().jump(to.u, &[]);
            }
        }
    }

    /// Branches on a truth held as a value.
    fn dispatch(&mut self, truth: V, to: Targets) {
        let is_true = self.b.ins().icmp_imm(IntCC::Equal, truth, TRUE);
        let other = self.b.create_block();
        self.b.ins().brif(is_true, to.t, &[], other, &[]);
        self.b.switch_to_block(other);
        let is_false = self.b.ins().icmp_imm(IntCC::Equal, truth, FALSE);
        self.b.ins().brif(is_false, to.f, &[], to.u, &[]);
    }

    /// A test whose truth is cached in byte `slot` of the frame's cache:
    /// read from there, or computed by its function, which fills it.
    fn cached(&mut self, slot: usize, to: Targets) {
        let (Ok(offset), Some(&function)) = (i32::try_from(slot), self.cached.get(&slot)) else {
            self.fail("a cached test without its function");
            self.b.ins().jump(to.u, &[]);
            return;
        };
        let (have, miss) = (self.b.create_block(), self.b.create_block());
        let byte = self.load(I8, self.cache, offset);
        self.b.ins().brif(byte, have, &[], miss, &[]);
        self.b.switch_to_block(have);
        let truth = self.b.ins().iadd_imm(byte, -1);
        self.dispatch(truth, to);
        self.b.switch_to_block(miss);
        let fused = self.fused;
        let test = match slot.checked_sub(self.definitions_at) {
            None => fused.shared.get(slot),
            Some(index) => fused.definitions.get(index).and_then(Option::as_ref),
        };
        if let Some(test) = test.filter(|test| !reaches_cached(test)) {
            // A test that uses no other cached test is computed in place:
            // no call, and its code cannot multiply.
            let stores = Targets { t: self.b.create_block(), f: self.b.create_block(), u: self.b.create_block() };
            let root = self.root;
            self.branch(test, root, true, stores);
            for (block, truth, target) in [(stores.t, TRUE, to.t), (stores.f, FALSE, to.f), (stores.u, UNKNOWN, to.u)] {
                self.b.switch_to_block(block);
                let byte = self.b.ins().iconst(I8, truth + 1);
                self.b.ins().store(MemFlags::trusted(), byte, self.cache, offset);
                self.b.ins().jump(target, &[]);
            }
            return;
        }
        let call = self.b.ins().call(function, &[self.frame]);
        match self.b.inst_results(call).first() {
            Some(&truth) => self.dispatch(truth, to),
            None => {
                self.fail("a cached test without a result");
                self.b.ins().jump(to.u, &[]);
            }
        }
    }

    /// The list mask of a list and the bit of a constant in it.
    fn mask_of(&self, path: &[u32], item: &str) -> Option<(usize, u32)> {
        let k = self.lists.iter().position(|list| *list.path == *path)?;
        let bit = self.lists.get(k)?.items.iter().position(|i| **i == *item)?;
        Some((k, u32::try_from(bit).ok()?))
    }

    /// The cache byte and number of list mask `k`.
    fn mask_slots(&self, k: usize) -> (i32, i32) {
        let byte = self.definitions_at + self.fused.definitions.len() + k;
        let number = (self.program.definitions.len() + k) * 8;
        (i32::try_from(byte).unwrap_or(i32::MAX), i32::try_from(number).unwrap_or(i32::MAX))
    }

    /// Whether the list of mask `k` holds its constant `bit`: the mask,
    /// computed the first time a profile needs it; unknown for a missing
    /// list.
    fn list_has(&mut self, k: usize, bit: u32, to: Targets) {
        let (byte_at, number_at) = self.mask_slots(k);
        let Some(&function) = self.cached.get(&(self.definitions_at + self.fused.definitions.len() + k)) else {
            self.fail("a list mask without its function");
            self.b.ins().jump(to.u, &[]);
            return;
        };
        let (known, miss, test) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        let byte = self.load(I8, self.cache, byte_at);
        let is_known = self.b.ins().icmp_imm(IntCC::Equal, byte, 1 + FALSE);
        self.b.ins().brif(is_known, known, &[], miss, &[]);
        self.b.switch_to_block(miss);
        // Not computed yet (0), or found unknown.
        let computed = self.b.ins().icmp_imm(IntCC::Equal, byte, 0);
        self.b.ins().brif(computed, test, &[], to.u, &[]);
        self.b.switch_to_block(test);
        let call = self.b.ins().call(function, &[self.frame]);
        let Some(&truth) = self.b.inst_results(call).first() else {
            self.fail("a list mask without a result");
            self.b.ins().jump(to.u, &[]);
            return;
        };
        let now_known = self.b.ins().icmp_imm(IntCC::Equal, truth, FALSE);
        self.b.ins().brif(now_known, known, &[], to.u, &[]);
        self.b.switch_to_block(known);
        let mask = self.load(I64, self.numbers, number_at);
        let held = self.b.ins().band_imm(mask, 1i64 << bit);
        self.b.ins().brif(held, to.t, &[], to.f, &[]);
    }

    /// The function of list mask `k`: the constants the list holds, stored
    /// as its number with its cache byte "known" (returns false); or, for a
    /// missing list or a value of another kind, the cache byte "unknown"
    /// (returns unknown). As [`Condition::ListHas`]: items that are not strings
    /// hold no constant.
    fn list_mask(&mut self, k: usize) {
        let lists = self.lists;
        let Some(list) = lists.get(k) else {
            self.fail("no such list mask");
            let unknown = self.truth_const(UNKNOWN);
            self.b.ins().return_(&[unknown]);
            return;
        };
        let (byte_at, number_at) = self.mask_slots(k);
        let unknown = self.b.create_block();
        let address = self.slot(self.root, &list.path, unknown);
        self.expect(address, tag::LIST, unknown);
        let mask = self.variable(I64);
        let zero = self.b.ins().iconst(I64, 0);
        self.b.def_var(mask, zero);
        self.each_item(address, |g, element, next| {
            let is_string = g.tag(element);
            let is_string = g.b.ins().icmp_imm(IntCC::Equal, is_string, tag::STRING);
            g.require(is_string, next, &[]);
            let (start, len) = g.slice(element);
            // On the item's length first: then only the constants of that
            // length are compared.
            let mut lengths: Vec<usize> = list.items.iter().map(|item| item.len()).collect();
            lengths.sort_unstable();
            lengths.dedup();
            let mut switch = cranelift_frontend::Switch::new();
            let mut groups = Vec::new();
            for length in lengths {
                let block = g.b.create_block();
                switch.set_entry(length as u128, block);
                groups.push((length, block));
            }
            switch.emit(&mut g.b, len, next);
            for (length, block) in groups {
                g.b.switch_to_block(block);
                for (bit, item) in list.items.iter().enumerate().filter(|(_, item)| item.len() == length) {
                    let equal = g.bytes_equal(start, len, item.as_bytes());
                    let equal = g.b.ins().uextend(I64, equal);
                    let shifted = g.b.ins().ishl_imm(equal, bit as i64);
                    let current = g.b.use_var(mask);
                    let updated = g.b.ins().bor(current, shifted);
                    g.b.def_var(mask, updated);
                }
                g.b.ins().jump(next, &[]);
            }
        });
        let value = self.b.use_var(mask);
        self.b.ins().store(MemFlags::trusted(), value, self.numbers, number_at);
        for (block, truth) in [(None, FALSE), (Some(unknown), UNKNOWN)] {
            if let Some(block) = block {
                self.b.switch_to_block(block);
            }
            let byte = self.b.ins().iconst(I8, truth + 1);
            self.b.ins().store(MemFlags::trusted(), byte, self.cache, byte_at);
            let result = self.truth_const(truth);
            self.b.ins().return_(&[result]);
        }
    }

    /// Branches on `condition` (an `i8` 0 or 1).
    fn branch_if(&mut self, condition: V, t: Block, f: Block) {
        self.b.ins().brif(condition, t, &[], f, &[]);
    }

    /// Generates `test`, its fields read from `base`, ending in a branch to
    /// `to`; `at_root` when `base` is the profile's root record (callbacks
    /// read only that).
    fn branch(&mut self, test: &Condition, base: Base, at_root: bool, to: Targets) {
        if !native(self.program, test) {
            if at_root {
                return self.call_back(test, to);
            }
            self.fail("a filter that calls back");
            self.b.ins().jump(to.u, &[]);
            return;
        }
        match test {
            Condition::Known(truth) => {
                let target = match truth {
                    Some(true) => to.t,
                    Some(false) => to.f,
                    None => to.u,
                };
                self.b.ins().jump(target, &[]);
            }
            Condition::And(items) => self.chain(items, base, at_root, to, false),
            Condition::Or(items) => self.chain(items, base, at_root, to, true),
            Condition::Not(inner) => self.branch(inner, base, at_root, Targets { t: to.f, f: to.t, u: to.u }),
            Condition::Bool(path) => {
                let address = self.slot(base, path, to.u);
                self.expect(address, tag::BOOL, to.u);
                let byte = self.load(I8, address, tag::PAYLOAD);
                self.branch_if(byte, to.t, to.f);
            }
            Condition::Int { path, kind, op, constant } => {
                let address = self.slot(base, path, to.u);
                let value = self.int_of_kind(address, *kind, to.u);
                let holds = self.b.ins().icmp_imm(int_cc(*op), value, *constant);
                self.branch_if(holds, to.t, to.f);
            }
            Condition::IntBetween { path, kind, low, high } => {
                if !matches!(kind, IntKind::Int | IntKind::Money | IntKind::Date) {
                    self.b.ins().jump(to.u, &[]);
                    return;
                }
                let address = self.slot(base, path, to.u);
                let value = self.int_of_kind(address, *kind, to.u);
                let above = self.b.ins().icmp_imm(IntCC::SignedGreaterThanOrEqual, value, *low);
                let below = self.b.ins().icmp_imm(IntCC::SignedLessThanOrEqual, value, *high);
                let holds = self.b.ins().band(above, below);
                self.branch_if(holds, to.t, to.f);
            }
            Condition::Number { path, op, constant } => {
                let n = self.number(base, path, to.u);
                let c = self.b.ins().f64const(*constant);
                let holds = self.b.ins().fcmp(float_cc(*op), n, c);
                self.branch_if(holds, to.t, to.f);
            }
            Condition::NumberBetween { path, low, high } => {
                let n = self.number(base, path, to.u);
                let (low, high) = (self.b.ins().f64const(*low), self.b.ins().f64const(*high));
                let above = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, n, low);
                let below = self.b.ins().fcmp(FloatCC::LessThanOrEqual, n, high);
                let holds = self.b.ins().band(above, below);
                self.branch_if(holds, to.t, to.f);
            }
            Condition::FieldMissing(path) => {
                let address = self.slot(base, path, to.t);
                let tag = self.tag(address);
                let missing = self.b.ins().icmp_imm(IntCC::Equal, tag, tag::MISSING);
                self.branch_if(missing, to.t, to.f);
            }
            Condition::Str { path, op, constant } => {
                let address = self.slot(base, path, to.u);
                self.expect(address, tag::STRING, to.u);
                let (start, len) = self.slice(address);
                let equal = self.bytes_equal(start, len, constant.as_bytes());
                match op {
                    CmpOp::Ne => self.branch_if(equal, to.f, to.t),
                    _ => self.branch_if(equal, to.t, to.f),
                }
            }
            Condition::ListHas { path, item } if base.root && self.mask_of(path, item).is_some() => {
                if let Some((k, bit)) = self.mask_of(path, item) {
                    self.list_has(k, bit, to);
                }
            }
            Condition::ListHas { path, item } => {
                let address = self.slot(base, path, to.u);
                self.expect(address, tag::LIST, to.u);
                self.each_item(address, |g, element, next| {
                    let is_string = g.tag(element);
                    let is_string = g.b.ins().icmp_imm(IntCC::Equal, is_string, tag::STRING);
                    g.require(is_string, next, &[]);
                    let (start, len) = g.slice(element);
                    let equal = g.bytes_equal(start, len, item.as_bytes());
                    g.branch_if(equal, to.t, next);
                });
                self.b.ins().jump(to.f, &[]);
            }
            Condition::FieldIn { set, .. } if set.is_empty() => {
                self.b.ins().jump(to.f, &[]);
            }
            Condition::FieldIn { path, set } => {
                let Some(members) = members(set) else {
                    self.fail("a list not in line");
                    self.b.ins().jump(to.u, &[]);
                    return;
                };
                let address = self.slot(base, path, to.u);
                let mut any = self.truth_const(FALSE);
                match members {
                    Members::Strings(items) => {
                        self.expect(address, tag::STRING, to.u);
                        let (start, len) = self.slice(address);
                        for item in items {
                            let equal = self.bytes_equal(start, len, item);
                            any = self.b.ins().bor(any, equal);
                        }
                    }
                    Members::Integers(items) => {
                        let value = self.integer(address, to.u);
                        for item in items {
                            let equal = self.b.ins().icmp_imm(IntCC::Equal, value, item);
                            any = self.b.ins().bor(any, equal);
                        }
                    }
                }
                self.branch_if(any, to.t, to.f);
            }
            Condition::Quantifier { all, list, filter } => {
                let address = self.slot(base, list, to.u);
                self.expect(address, tag::LIST, to.u);
                let seen_unknown = self.variable(I8);
                let no = self.truth_const(FALSE);
                self.b.def_var(seen_unknown, no);
                let all = *all;
                self.each_item(address, |g, element, next| {
                    let base = g.element_base(element);
                    let unknown = g.b.create_block();
                    let targets = if all {
                        Targets { t: next, f: to.f, u: unknown }
                    } else {
                        Targets { t: to.t, f: next, u: unknown }
                    };
                    g.branch(filter, base, false, targets);
                    g.b.switch_to_block(unknown);
                    let yes = g.truth_const(TRUE);
                    g.b.def_var(seen_unknown, yes);
                    g.b.ins().jump(next, &[]);
                });
                let seen = self.b.use_var(seen_unknown);
                let otherwise = if all { to.t } else { to.f };
                self.branch_if(seen, to.u, otherwise);
            }
            Condition::Count { list, filter, op, constant } => {
                let address = self.slot(base, list, to.u);
                self.expect(address, tag::LIST, to.u);
                let count = match filter {
                    None => {
                        let (start, len) = self.slice(address);
                        let end = self.b.ins().iadd(start, len);
                        let inside = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, self.values_len);
                        // A slice past the values is an empty list, as
                        // `Profile::items`.
                        let zero = self.b.ins().iconst(I64, 0);
                        self.b.ins().select(inside, len, zero)
                    }
                    Some(filter) => {
                        let count = self.variable(I64);
                        let zero = self.b.ins().iconst(I64, 0);
                        self.b.def_var(count, zero);
                        self.each_item(address, |g, element, next| {
                            let base = g.element_base(element);
                            let counted = g.b.create_block();
                            g.branch(filter, base, false, Targets { t: counted, f: next, u: to.u });
                            g.b.switch_to_block(counted);
                            let current = g.b.use_var(count);
                            let more = g.b.ins().iadd_imm(current, 1);
                            g.b.def_var(count, more);
                            g.b.ins().jump(next, &[]);
                        });
                        self.b.use_var(count)
                    }
                };
                let holds = self.b.ins().icmp_imm(int_cc(*op), count, *constant);
                self.branch_if(holds, to.t, to.f);
            }
            Condition::Shared(index) => self.cached(*index as usize, to),
            Condition::Def(index) => match self.fused.definitions.get(*index as usize) {
                Some(Some(_)) => self.cached(self.definitions_at + *index as usize, to),
                // A definition of another type than truth: the interpreter
                // caches it.
                _ => self.call_back(test, to),
            },
            Condition::Compare(op, a, b) => match sum_compare(self.program, *op, a, b) {
                Some((index, op, constant)) => {
                    let value = self.sum(index, to.u);
                    let holds = self.b.ins().icmp_imm(int_cc(op), value, constant);
                    self.branch_if(holds, to.t, to.f);
                }
                None => self.call_back(test, to),
            },
            Condition::InSet(..) | Condition::Missing(_) | Condition::Node(_) => self.call_back(test, to),
        }
    }

    /// Kleene `and` (`or` when `is_or`) of a chain, left to right, going
    /// as soon as an operand decides it. An unknown operand is remembered,
    /// unless unknown goes where the deciding truth goes (an `and` whose
    /// unknown and false lead to the same block is decided by it). This is
    /// [`crate::eval::logic::Connective::fold`] as branches.
    fn chain(&mut self, items: &[Condition], base: Base, at_root: bool, to: Targets, is_or: bool) {
        let (decided, undecided) = if is_or { (to.t, to.f) } else { (to.f, to.t) };
        let shortcut = to.u == decided;
        let seen_unknown = (!shortcut).then(|| {
            let var = self.variable(I8);
            let no = self.truth_const(FALSE);
            self.b.def_var(var, no);
            var
        });
        for item in items {
            let next = self.b.create_block();
            let unknown = if shortcut { decided } else { self.b.create_block() };
            let targets = if is_or {
                Targets { t: decided, f: next, u: unknown }
            } else {
                Targets { t: next, f: decided, u: unknown }
            };
            self.branch(item, base, at_root, targets);
            if let Some(var) = seen_unknown {
                self.b.switch_to_block(unknown);
                let yes = self.truth_const(TRUE);
                self.b.def_var(var, yes);
                self.b.ins().jump(next, &[]);
            }
            self.b.switch_to_block(next);
        }
        match seen_unknown {
            Some(var) => {
                let seen = self.b.use_var(var);
                self.branch_if(seen, to.u, undecided);
            }
            None => {
                self.b.ins().jump(undecided, &[]);
            }
        }
    }

    /// The value of a [`Sum`] definition, cached; jumps to `unknown` when
    /// it is unknown (a missing list, element or value, an unknown filter,
    /// or a total outside 64 bits).
    fn sum(&mut self, index: u32, unknown: Block) -> V {
        let program = self.program;
        let Some(sum) = sum(program, index) else {
            self.fail("not a sum");
            return self.b.ins().iconst(I64, 0);
        };
        let slot = i32::try_from(self.definitions_at + index as usize).unwrap_or(i32::MAX);
        let number = i32::try_from(index as usize * 8).unwrap_or(i32::MAX);
        let (hit, not_hit, compute, join) =
            (self.b.create_block(), self.b.create_block(), self.b.create_block(), self.b.create_block());
        let value = self.b.append_block_param(join, I64);
        let byte = self.load(I8, self.cache, slot);
        let known = self.b.ins().icmp_imm(IntCC::Equal, byte, 1 + FALSE);
        self.b.ins().brif(known, hit, &[], not_hit, &[]);
        self.b.switch_to_block(hit);
        let cached = self.load(I64, self.numbers, number);
        self.b.ins().jump(join, &[cached]);
        self.b.switch_to_block(not_hit);
        let computed = self.b.ins().icmp_imm(IntCC::Equal, byte, 0);
        self.b.ins().brif(computed, compute, &[], unknown, &[]);
        self.b.switch_to_block(compute);
        // Found unknown: remembered, then unknown.
        let found_unknown = self.b.create_block();
        let address = self.slot(self.root, sum.list, found_unknown);
        self.expect(address, tag::LIST, found_unknown);
        let total = self.variable(I128);
        let zero = self.b.ins().iconst(I64, 0);
        let zero = self.b.ins().sextend(I128, zero);
        self.b.def_var(total, zero);
        self.each_item(address, |g, element, next| {
            if let Some(filter) = sum.filter {
                let base = g.element_base(element);
                let passes = g.b.create_block();
                g.branch(filter, base, false, Targets { t: passes, f: next, u: found_unknown });
                g.b.switch_to_block(passes);
            }
            g.expect(element, tag::RECORD, found_unknown);
            let (start, len) = g.slice(element);
            let address = g.slot(Base { start, len, root: false }, sum.projection, found_unknown);
            let tag = g.tag(address);
            let is_int = g.b.ins().icmp_imm(IntCC::Equal, tag, tag::INT);
            let is_money = g.b.ins().icmp_imm(IntCC::Equal, tag, tag::MONEY);
            let is_either = g.b.ins().bor(is_int, is_money);
            g.require(is_either, found_unknown, &[]);
            let item = g.load(I64, address, tag::PAYLOAD);
            let item = g.b.ins().sextend(I128, item);
            let running = g.b.use_var(total);
            let running = g.b.ins().iadd(running, item);
            g.b.def_var(total, running);
            g.b.ins().jump(next, &[]);
        });
        let wide = self.b.use_var(total);
        let narrow = self.b.ins().ireduce(I64, wide);
        let back = self.b.ins().sextend(I128, narrow);
        let fits = self.b.ins().icmp(IntCC::Equal, back, wide);
        self.require(fits, found_unknown, &[]);
        self.b.ins().store(MemFlags::trusted(), narrow, self.numbers, number);
        let one = self.b.ins().iconst(I8, 1 + FALSE);
        self.b.ins().store(MemFlags::trusted(), one, self.cache, slot);
        self.b.ins().jump(join, &[narrow]);
        self.b.switch_to_block(found_unknown);
        let three = self.b.ins().iconst(I8, 1 + UNKNOWN);
        self.b.ins().store(MemFlags::trusted(), three, self.cache, slot);
        self.b.ins().jump(unknown, &[]);
        self.b.switch_to_block(join);
        value
    }

    /// The value of an integer-like field of one kind, as `i64`.
    fn int_of_kind(&mut self, address: V, kind: IntKind, otherwise: Block) -> V {
        let (want, ty, signed) = match kind {
            IntKind::Int => (tag::INT, I64, true),
            IntKind::Money => (tag::MONEY, I64, true),
            IntKind::Date => (tag::DATE, I32, true),
            IntKind::Enum => (tag::ENUM, I32, false),
            IntKind::Bool => (tag::BOOL, I8, false),
        };
        self.expect(address, want, otherwise);
        let raw = self.load(ty, address, tag::PAYLOAD);
        match (ty == I64, signed) {
            (true, _) => raw,
            (false, true) => self.b.ins().sextend(I64, raw),
            (false, false) => self.b.ins().uextend(I64, raw),
        }
    }

    /// A `number` field's value; jumps to `unknown` when it is missing,
    /// of another kind, or NaN.
    fn number(&mut self, base: Base, path: &[u32], unknown: Block) -> V {
        let address = self.slot(base, path, unknown);
        self.expect(address, tag::NUMBER, unknown);
        let n = self.load(F64, address, tag::PAYLOAD);
        let ordered = self.b.ins().fcmp(FloatCC::Ordered, n, n);
        self.require(ordered, unknown, &[]);
        n
    }

    /// The fields of the element at `element` when it is a record; else
    /// it has none.
    fn element_base(&mut self, element: V) -> Base {
        let join = self.b.create_block();
        let start = self.b.append_block_param(join, I64);
        let len = self.b.append_block_param(join, I64);
        let tag = self.tag(element);
        let is_record = self.b.ins().icmp_imm(IntCC::Equal, tag, tag::RECORD);
        let record = self.b.create_block();
        let zero = self.b.ins().iconst(I64, 0);
        self.b.ins().brif(is_record, record, &[], join, &[zero, zero]);
        self.b.switch_to_block(record);
        let (s, l) = self.slice(element);
        self.b.ins().jump(join, &[s, l]);
        self.b.switch_to_block(join);
        Base { start, len, root: false }
    }

    /// Loops over the items of the list at `address`: `body` gets each
    /// item's address and the block that goes on to the next, and must end
    /// by jumping somewhere. Continues in the block after the loop; a slice
    /// past the values is an empty list, as `Profile::items`.
    fn each_item(&mut self, address: V, body: impl FnOnce(&mut Self, V, Block)) {
        let (start, len) = self.slice(address);
        let end = self.b.ins().iadd(start, len);
        let (header, item, exit) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, self.values_len);
        self.b.ins().brif(inside, header, &[start], exit, &[]);
        let index = self.b.append_block_param(header, I64);
        self.b.switch_to_block(header);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, index, end);
        self.b.ins().brif(more, item, &[], exit, &[]);
        self.b.switch_to_block(item);
        let element = self.address(index);
        let next = self.b.create_block();
        body(self, element, next);
        self.b.switch_to_block(next);
        let following = self.b.ins().iadd_imm(index, 1);
        self.b.ins().jump(header, &[following]);
        self.b.switch_to_block(exit);
    }
}

/// The rules the entry of a program native in part evaluates: those outside
/// the indexes and those of the indexes of fewer than `walk_from` rules,
/// which the interpreter does not walk, in order.
pub(super) fn entry_rules(program: &Program, walk_from: usize) -> Vec<u32> {
    let dispatch = &program.dispatch;
    let mut rules = dispatch.always.clone();
    rules.extend(dispatch.unwalked(walk_from));
    rules.sort_unstable();
    rules.dedup();
    rules
}
