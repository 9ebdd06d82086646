//! Expressions: names resolved to slots and definitions, types inferred, and
//! implicit conversions (`int` to `number` or `money`, string literals to
//! enum members) made explicit.

use crate::ir::AggregateFn;
use crate::ir::{self, ArithOp, Base, CmpOp, Const, DefId, Expr, ExprKind as K, TextOp, Type};
use crate::syntax::ast::{self, BinaryOp, ExprKind as A, Literal, Name, UnaryOp};
use crate::text::diagnostic::{list_names, Code, Diagnostic};
use crate::text::source::Span;

use super::checker::{Checker, DefState, MAX_DEFINITION_DEPTH, MAX_INLINED_ITEMS};

/// The element scopes of the aggregates an expression sits in, innermost last.
#[derive(Clone, Debug, Default)]
pub(super) struct Scope {
    elements: Vec<Type>,
}

fn expr(kind: K, ty: Type, nullable: bool, span: Span) -> Expr {
    Expr { kind, ty, nullable, span }
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl Checker<'_> {
    /// Looks up a definition by name, checking it first if needed. `None`:
    /// no such definition; `Some(None)`: it has errors (already reported).
    pub(super) fn definition(&mut self, name: &str, at: Span) -> Option<Option<(DefId, Type, bool)>> {
        let (index, def) = *self.definition_asts.get(name)?;
        match self.definition_states.get(index)? {
            DefState::Done(result) => return Some(result.clone()),
            DefState::Checking => {
                let start = self.definition_stack.iter().position(|n| n == name).unwrap_or(0);
                let mut cycle: Vec<String> =
                    self.definition_stack.iter().skip(start).map(|n| format!("`{n}`")).collect();
                cycle.push(format!("`{name}`"));
                self.error(
                    Diagnostic::new(Code::DefinitionCycle, at, format!("definition `{name}` depends on itself"))
                        .with_label(format!("the cycle: {}", cycle.join(" -> ")))
                        .with_help("a definition may only use definitions that do not use it back"),
                );
                return Some(None);
            }
            DefState::Pending => {}
        }
        if self.definition_stack.len() >= MAX_DEFINITION_DEPTH {
            self.error(
                Diagnostic::new(
                    Code::DefinitionsTooDeep,
                    at,
                    format!("definitions are built on each other more than {MAX_DEFINITION_DEPTH} deep here"),
                )
                .with_help("flatten the chain: a definition can combine several others directly"),
            );
            return Some(None);
        }
        if let Some(state) = self.definition_states.get_mut(index) {
            *state = DefState::Checking;
        }
        self.definition_stack.push(name.to_string());
        let typed = self.expr(&def.value, &Scope::default());
        self.definition_stack.pop();
        // A cycle found below marks this definition failed too.
        let result = typed.map(|value| {
            let (ty, nullable) = (value.ty.clone(), value.nullable);
            self.definitions.push(ir::Definition { name: name.to_string(), value, span: def.name.span });
            (self.definitions.len() - 1, ty, nullable)
        });
        if let Some(state) = self.definition_states.get_mut(index) {
            *state = DefState::Done(result.clone());
        }
        Some(result)
    }

    /// Types an expression; `None` when an error has been reported for it.
    pub(super) fn expr(&mut self, e: &ast::Expr, scope: &Scope) -> Option<Expr> {
        let span = e.span;
        match &e.node {
            A::Literal(literal) => Some(self.literal(literal, span)),
            A::List(items) => {
                let items: Vec<Expr> = items.iter().map(|i| self.expr(i, scope)).collect::<Option<_>>()?;
                let element = self.join_all(&items, span)?;
                let items = items.into_iter().map(|i| self.coerce(i, &element)).collect::<Option<Vec<_>>>()?;
                let nullable = items.iter().any(|i| i.nullable);
                Some(expr(K::List(items), Type::List(Box::new(element)), nullable, span))
            }
            A::Path(path) => self.path(path, scope, span),
            A::Today => {
                self.uses_today.get_or_insert(span);
                Some(expr(K::Today, Type::Date, false, span))
            }
            A::It => match scope.elements.last() {
                Some(ty) if !matches!(ty, Type::Record(_)) => {
                    Some(expr(K::Field { base: Base::Element(0), path: Vec::new() }, ty.clone(), false, span))
                }
                _ => {
                    self.error(
                        Diagnostic::new(
                            Code::ItOutsideList,
                            span,
                            "`it` is only defined inside `where` over a list of values",
                        )
                        .with_help("inside `where` over a list of records, name the element's fields directly"),
                    );
                    None
                }
            },
            A::Has(path) => {
                // The field read is located at the path, so `explain` names it as written.
                let at = match (path.first(), path.last()) {
                    (Some(first), Some(last)) => first.span.to(last.span),
                    _ => span,
                };
                let value = self.path(path, scope, at)?;
                self.presence(value, span, true)
            }
            A::IsMissing { value, negated } => {
                let value = self.expr(value, scope)?;
                self.presence(value, span, *negated)
            }
            A::Unary(UnaryOp::Not, operand) => {
                let operand = self.expr(operand, scope)?;
                self.expect_bool(&operand, "`not`")?;
                let nullable = operand.nullable;
                Some(expr(K::Not(boxed(operand)), Type::Bool, nullable, span))
            }
            A::Unary(UnaryOp::Neg, operand) => {
                let operand = self.expr(operand, scope)?;
                if !matches!(operand.ty, Type::Int | Type::Number | Type::Money) {
                    return self.mismatch(span, format!("cannot negate {}", self.describe(&operand.ty)), None);
                }
                // `-2500.50` is as exact in cents as `2500.50`: it stands for
                // an amount beside money too.
                if let Some(cents) = self.cents_literals.get(&operand.span).and_then(|c| c.checked_neg()) {
                    self.cents_literals.insert(span, cents);
                }
                let (ty, nullable) = (operand.ty.clone(), operand.nullable || operand.ty != Type::Number);
                Some(expr(K::Neg(boxed(operand)), ty, nullable, span))
            }
            A::Binary(op, left, right) => {
                let left_typed = self.expr(left, scope);
                let right_typed = self.expr(right, scope);
                let (l, r) = (left_typed?, right_typed?);
                self.binary(*op, l, r, span)
            }
            A::Between { value, low, high } => {
                let value = self.expr(value, scope);
                let low = self.expr(low, scope);
                let high = self.expr(high, scope);
                let (value, low, high) = (value?, low?, high?);
                // `x between a and b` is `a <= x and x <= b`, each comparison
                // typed on its own: an int beside an int stays exact even
                // when the other bound is a number.
                let low_ty = self.join(&value, &low, span)?;
                let high_ty = self.join(&value, &high, span)?;
                self.ordered(&low_ty, span, "`between`")?;
                self.ordered(&high_ty, span, "`between`")?;
                if low_ty != high_ty {
                    let above = self.binary(BinaryOp::Le, low, value.clone(), span)?;
                    let below = self.binary(BinaryOp::Le, value, high, span)?;
                    return self.binary(BinaryOp::And, above, below, span);
                }
                let ty = low_ty;
                let (value, low, high) = (self.coerce(value, &ty)?, self.coerce(low, &ty)?, self.coerce(high, &ty)?);
                let nullable = value.nullable || low.nullable || high.nullable;
                Some(expr(
                    K::Between { value: boxed(value), low: boxed(low), high: boxed(high) },
                    Type::Bool,
                    nullable,
                    span,
                ))
            }
            A::In { value, list, negated } => {
                let value = self.expr(value, scope);
                let list = self.expr(list, scope);
                let membership = self.membership(value?, list?, span)?;
                Some(self.negate_if(membership, *negated))
            }
            A::Text(op, left, right) => {
                let left = self.expr(left, scope);
                let right = self.expr(right, scope);
                let (left, right) = (left?, right?);
                if *op == ast::TextOp::Contains && matches!(left.ty, Type::List(_)) {
                    return self.membership(right, left, span);
                }
                if left.ty != Type::String || right.ty != Type::String {
                    return self.mismatch(
                        span,
                        format!(
                            "`{}` needs two strings, found {} and {}",
                            op.word(),
                            self.describe(&left.ty),
                            self.describe(&right.ty)
                        ),
                        (*op == ast::TextOp::Contains)
                            .then(|| "`contains` also tests whether a list holds a value".to_string()),
                    );
                }
                let op = match op {
                    ast::TextOp::Contains => TextOp::Contains,
                    ast::TextOp::StartsWith => TextOp::StartsWith,
                    ast::TextOp::EndsWith => TextOp::EndsWith,
                };
                let nullable = left.nullable || right.nullable;
                Some(expr(K::Text(op, boxed(left), boxed(right)), Type::Bool, nullable, span))
            }
            A::Convert { to, value } => {
                let value = self.expr(value, scope)?;
                let nullable = value.nullable;
                let kind = match (to, &value.ty) {
                    (ast::ScalarType::Number, Type::Number) | (ast::ScalarType::Money, Type::Money) => {
                        return Some(value)
                    }
                    (ast::ScalarType::Number, Type::Int) => K::IntToNumber(boxed(value)),
                    (ast::ScalarType::Number, Type::Money) => K::MoneyToNumber(boxed(value)),
                    (ast::ScalarType::Money, Type::Int) => K::IntToMoney(boxed(value)),
                    (ast::ScalarType::Money, Type::Number) => K::NumberToMoney(boxed(value)),
                    (to, ty) => {
                        return self.mismatch(
                            span,
                            format!("cannot convert {} to `{}`", self.describe(ty), to.keyword()),
                            Some("`number(..)` and `money(..)` convert between `int`, `number` and `money`".into()),
                        )
                    }
                };
                let ty = if *to == ast::ScalarType::Money { Type::Money } else { Type::Number };
                // int to money and number to money can leave the range of cents.
                let nullable = nullable || ty == Type::Money;
                Some(expr(kind, ty, nullable, span))
            }
            A::Aggregate { func, source, filter } => {
                self.aggregate(AggregateFn::from(func.node), source, filter.as_deref(), scope, span)
            }
            A::Bucket { value, salt } => {
                let value = self.expr(value, scope)?;
                if !matches!(value.ty, Type::Int | Type::String) {
                    let found = self.describe(&value.ty);
                    return self.error_none(
                        Diagnostic::new(Code::BucketOfWrongType, value.span, format!("cannot bucket {found}"))
                            .with_label("`bucket` hashes the text of an `int` or a `string`")
                            .with_help("bucket the profile's identity: `bucket(id, \"salt\")`"),
                    );
                }
                let nullable = value.nullable;
                Some(expr(K::Bucket { value: boxed(value), salt: salt.node.clone() }, Type::Number, nullable, span))
            }
        }
    }

    fn literal(&mut self, literal: &Literal, span: Span) -> Expr {
        let (value, ty) = match literal {
            Literal::Bool(b) => (Const::Bool(*b), Type::Bool),
            Literal::Int(i) => (Const::Int(*i), Type::Int),
            Literal::Decimal { value, .. } => (Const::Number(*value), Type::Number),
            Literal::Money(cents) => (Const::Money(*cents), Type::Money),
            Literal::String(s) => (Const::String(s.clone()), Type::String),
            Literal::Date(d) => (Const::Date(*d), Type::Date),
            Literal::Days(d) => (Const::Days(*d), Type::Days),
        };
        if let Literal::Decimal { cents: Some(cents), .. } = literal {
            self.cents_literals.insert(span, *cents);
        }
        expr(K::Const(value), ty, false, span)
    }

    /// The items of a list literal, directly or through definitions.
    fn list_literal<'e>(&'e self, e: &'e Expr) -> Option<&'e [Expr]> {
        match &e.kind {
            K::List(items) => Some(items),
            K::Def(id) => self.definitions.get(*id).and_then(|d| self.list_literal(&d.value)),
            _ => None,
        }
    }

    fn presence(&mut self, value: Expr, span: Span, negated: bool) -> Option<Expr> {
        if self.list_literal(&value).is_some() {
            return self.mismatch(span, "a list literal is never missing".into(), None);
        }
        if !value.nullable {
            self.error(
                Diagnostic::new(
                    Code::NeverMissing,
                    span,
                    format!(
                        "this value is never missing, so the test is always {}",
                        if negated { "true" } else { "false" }
                    ),
                )
                .with_help("only optional fields, and values computed from them, can be missing"),
            );
        }
        let test = expr(K::IsMissing(boxed(value)), Type::Bool, false, span);
        Some(self.negate_if(test, negated))
    }

    fn negate_if(&self, e: Expr, negated: bool) -> Expr {
        if negated {
            let (span, nullable) = (e.span, e.nullable);
            expr(K::Not(boxed(e)), Type::Bool, nullable, span)
        } else {
            e
        }
    }

    /// The field a path starts at: an element field of an enclosing aggregate
    /// (innermost first), else a profile field.
    fn field_start(&self, name: &str, scope: &Scope) -> Option<(Base, usize, Type, bool)> {
        for (depth, element) in scope.elements.iter().rev().enumerate() {
            if let Type::Record(record) = element {
                if let Some((slot, field)) = self.schema.records.get(*record).and_then(|r| r.field(name)) {
                    let base = Base::Element(u32::try_from(depth).unwrap_or(u32::MAX));
                    return Some((base, slot, field.ty.clone(), field.optional));
                }
            }
        }
        let (slot, field) = self.schema.records.first()?.field(name)?;
        Some((Base::Profile, slot, field.ty.clone(), field.optional))
    }

    /// Resolves a path: element fields of enclosing aggregates first, then
    /// profile fields, then definitions.
    fn path(&mut self, path: &[Name], scope: &Scope, span: Span) -> Option<Expr> {
        let (first, rest) = path.split_first()?;
        if let Some((base, slot, ty, optional)) = self.field_start(&first.node, scope) {
            return self.walk_path(base, (vec![slot], ty, optional), path.get(..1)?, rest, span);
        }
        if self.definition_asts.contains_key(&first.node) {
            self.referenced.insert(first.node.clone());
        }
        if let Some(def) = self.definition(&first.node, first.span) {
            if let Some(extra) = rest.first() {
                return self.unknown(
                    extra.span,
                    format!("`{}` is a definition, it has no field `{}`", first.node, extra.node),
                    None,
                );
            }
            let (id, ty, nullable) = def?;
            return Some(expr(K::Def(id), ty, nullable, span));
        }
        if self.stream_ids.contains_key(&first.node) {
            self.error(
                Diagnostic::new(
                    Code::WrongKindOfName,
                    first.span,
                    format!("`{}` is a stream, not a value", first.node),
                )
                .with_help("streams are named after `->`; conditions read fields and definitions"),
            );
            return None;
        }
        if self.rule_names.contains(&first.node) {
            self.error(
                Diagnostic::new(Code::WrongKindOfName, first.span, format!("`{}` is a rule, not a value", first.node))
                    .with_help("to reuse a condition, give it a name as a definition: `name = condition`"),
            );
            return None;
        }
        let written = names(path);
        let mut candidates = Vec::new();
        if !self.suggester.exhausted() {
            for element in &scope.elements {
                if let Type::Record(record) = element {
                    super::schema::paths(self.schema, *record, "", &mut candidates);
                }
            }
            super::schema::paths(self.schema, 0, "", &mut candidates);
            candidates.extend(self.definition_names.iter().cloned());
        }
        let help = self.suggester.did_you_mean(&written, candidates.iter().map(String::as_str));
        self.unknown(
            first.span.to(path.last().map_or(first.span, |l| l.span)),
            format!("unknown field `{written}`"),
            help,
        )
    }

    /// Follows the rest of a path through nested records. A path may not go
    /// through a list outside an aggregate.
    fn walk_path(
        &mut self,
        base: Base,
        (mut slots, mut ty, mut nullable): (Vec<usize>, Type, bool),
        done: &[Name],
        rest: &[Name],
        span: Span,
    ) -> Option<Expr> {
        let mut written = names(done);
        for name in rest {
            match &ty {
                Type::Record(record) => {
                    let fields = self.schema.records.get(*record)?;
                    match fields.field(&name.node) {
                        Some((slot, field)) => {
                            slots.push(slot);
                            nullable |= field.optional;
                            ty = field.ty.clone();
                            written = format!("{written}.{}", name.node);
                        }
                        None => {
                            let mut candidates = Vec::new();
                            if !self.suggester.exhausted() {
                                super::schema::paths(self.schema, *record, &written, &mut candidates);
                            }
                            let full = format!("{written}.{}", name.node);
                            let help = self.suggester.did_you_mean(&full, candidates.iter().map(String::as_str));
                            return self.unknown(span, format!("unknown field `{full}`"), help);
                        }
                    }
                }
                Type::List(_) => {
                    return self.error_none(
                        Diagnostic::new(
                            Code::NotAList,
                            span,
                            format!("`{written}` is a list: `{}` would read every element", names_from(&written, name)),
                        )
                        .with_help(format!(
                            "use an aggregate, such as `sum({})` or `any({written} where {} ...)`",
                            names_from(&written, name),
                            name.node
                        )),
                    );
                }
                other => {
                    return self.unknown(
                        name.span,
                        format!("`{written}` is {}, it has no field `{}`", self.describe(&other.clone()), name.node),
                        None,
                    );
                }
            }
        }
        Some(expr(K::Field { base, path: slots }, ty, nullable, span))
    }

    fn aggregate(
        &mut self,
        func: AggregateFn,
        source: &[Name],
        filter: Option<&ast::Expr>,
        scope: &Scope,
        span: Span,
    ) -> Option<Expr> {
        // Split the source at its list: `donations.amount` is the list
        // `donations` and the projection `amount` of each element.
        let split = self.field_start(&source.first()?.node, scope).and_then(|(base, slot, ty, optional)| {
            let (mut slots, mut ty, mut nullable) = (vec![slot], ty, optional);
            for (i, name) in source.iter().enumerate().skip(1) {
                if matches!(ty, Type::List(_)) {
                    return Some((i, base, slots, ty, nullable));
                }
                let Type::Record(record) = ty else { return None };
                let (slot, field) = self.schema.records.get(record)?.field(&name.node)?;
                slots.push(slot);
                nullable |= field.optional;
                ty = field.ty.clone();
            }
            matches!(ty, Type::List(_)).then_some((source.len(), base, slots, ty, nullable))
        });
        let Some((end, base, slots, list_ty, list_nullable)) = split else {
            // Report the real problem: an unknown name, or not a list.
            let whole = self.path(source, scope, span)?;
            return self.error_none(Diagnostic::new(
                Code::NotAList,
                span,
                format!("`{}` needs a list, but `{}` is {}", func.name(), names(source), self.describe(&whole.ty)),
            ));
        };
        let list = expr(K::Field { base, path: slots }, list_ty, list_nullable, span);
        let Type::List(element) = list.ty.clone() else { return None };
        let element = *element;
        let mut projected = element.clone();
        let mut projection = Vec::new();
        let mut element_nullable = false;
        for name in source.get(end..).unwrap_or_default() {
            let Type::Record(record) = projected else {
                return self.unknown(
                    name.span,
                    format!("`{}` has no field `{}`", names(source.get(..end)?), name.node),
                    None,
                );
            };
            let Some((slot, field)) = self.schema.records.get(record).and_then(|r| r.field(&name.node)) else {
                let mut candidates = Vec::new();
                if !self.suggester.exhausted() {
                    super::schema::paths(self.schema, record, &names(source.get(..end)?), &mut candidates);
                }
                let help = self.suggester.did_you_mean(&names(source), candidates.iter().map(String::as_str));
                return self.unknown(name.span, format!("unknown field `{}`", names(source)), help);
            };
            projection.push(slot);
            element_nullable |= field.optional;
            projected = field.ty.clone();
        }
        if let Type::List(_) = projected {
            return self.error_none(Diagnostic::new(
                Code::NotAList,
                span,
                format!("`{}` is a list inside a list; aggregate one level at a time", names(source)),
            ));
        }
        let filter = match filter {
            Some(filter) => {
                let mut inner = scope.clone();
                inner.elements.push(element.clone());
                let typed = self.expr(filter, &inner)?;
                self.expect_bool(&typed, "`where`")?;
                Some(typed)
            }
            None => None,
        };
        let filter_nullable = filter.as_ref().is_some_and(|f| f.nullable);
        let nullable_inputs = list.nullable || element_nullable || filter_nullable;
        let ty = match func {
            AggregateFn::Count => Type::Int,
            AggregateFn::Sum => {
                if !matches!(projected, Type::Int | Type::Number | Type::Money) {
                    return self.aggregate_type(func, &projected, span, "numbers");
                }
                projected.clone()
            }
            AggregateFn::Min | AggregateFn::Max => {
                if !matches!(projected, Type::Int | Type::Number | Type::Money | Type::Date | Type::String) {
                    return self.aggregate_type(func, &projected, span, "numbers, amounts, dates or strings");
                }
                projected.clone()
            }
            AggregateFn::Avg => match projected {
                Type::Int | Type::Number => Type::Number,
                Type::Money => Type::Money,
                _ => return self.aggregate_type(func, &projected, span, "numbers"),
            },
            AggregateFn::Any | AggregateFn::All => {
                if filter.is_none() && projected != Type::Bool {
                    return self.error_none(
                        Diagnostic::new(Code::TypeMismatch, span, format!("`{}` needs a condition", func.name()))
                            .with_help(format!("write `{}({} where ...)`", func.name(), names(source))),
                    );
                }
                Type::Bool
            }
        };
        let nullable = nullable_inputs
            || matches!(func, AggregateFn::Min | AggregateFn::Max | AggregateFn::Avg)
            || (func == AggregateFn::Sum && projected != Type::Number);
        Some(expr(K::Aggregate { func, list: boxed(list), projection, filter: filter.map(boxed) }, ty, nullable, span))
    }

    fn aggregate_type(&mut self, func: AggregateFn, ty: &Type, span: Span, wanted: &str) -> Option<Expr> {
        self.mismatch(span, format!("`{}` needs {wanted}, found {}", func.name(), self.describe(ty)), None)
    }

    fn membership(&mut self, value: Expr, list: Expr, span: Span) -> Option<Expr> {
        let Type::List(element) = list.ty.clone() else {
            return self.error_none(
                Diagnostic::new(
                    Code::NotAList,
                    list.span,
                    format!("`in` needs a list on its right, found {}", self.describe(&list.ty)),
                )
                .with_help("a list is written `[\"OH\", \"MI\"]` or is a field of type `list of ...`"),
            );
        };
        // A definition that names a list literal stands for the literal: a
        // copy of its items at each use, which a limit keeps from growing
        // with the square of the file (a long list used by every rule).
        if let (K::Def(_), Some(items)) = (&list.kind, self.list_literal(&list).map(<[Expr]>::len)) {
            let before = self.inlined_items;
            self.inlined_items = before.saturating_add(items);
            if self.inlined_items > MAX_INLINED_ITEMS {
                if before > MAX_INLINED_ITEMS {
                    // Said once, at the use that went over.
                    return None;
                }
                return self.error_none(
                    Diagnostic::new(
                        Code::TooLarge,
                        list.span,
                        format!(
                            "the lists named by definitions stand for more than {MAX_INLINED_ITEMS} items in all, \
                             counting each use"
                        ),
                    )
                    .with_help("use long lists in fewer places, or read them from a `list of` field"),
                );
            }
        }
        let list = match self.list_literal(&list).map(<[Expr]>::to_vec) {
            Some(items) => Expr { kind: K::List(items), ..list },
            None => list,
        };
        let (value, list) = match list.kind {
            K::List(items) => {
                // A literal list adapts to the value: `party in ["dem", "ind"]`,
                // `total in [12.50, 100]`, from its items as written.
                let items: Vec<Expr> = items.into_iter().map(as_written).collect();
                // `x in [a, b]` is `x == a or x == b`, each comparison typed
                // on its own: when the items meet the value at different
                // types (`age in [i, 0.5]`), it is written out so.
                let mut types = Vec::with_capacity(items.len());
                for item in &items {
                    types.push(self.join(&value, item, span)?);
                }
                if types.windows(2).any(|pair| pair.first() != pair.get(1)) {
                    return self.items_one_by_one(value, items, span);
                }
                let mut typed_items = Vec::with_capacity(items.len());
                let target = types.into_iter().next().unwrap_or_else(|| value.ty.clone());
                for item in items {
                    typed_items.push(self.coerce(item, &target)?);
                }
                let value = self.coerce(value, &target)?;
                let nullable = typed_items.iter().any(|i| i.nullable);
                let list = expr(K::List(typed_items), Type::List(Box::new(target)), nullable, list.span);
                (value, list)
            }
            kind => {
                let list = Expr { kind, ..list };
                let target = self.join_type(&element, &value, span)?;
                if target != *element {
                    return self.mismatch(
                        span,
                        format!("cannot look for {} in a {}", self.describe(&value.ty), self.describe(&list.ty)),
                        None,
                    );
                }
                (self.coerce(value, &target)?, list)
            }
        };
        if matches!(value.ty, Type::List(_) | Type::Record(_)) {
            return self.mismatch(span, format!("cannot look for {} in a list", self.describe(&value.ty)), None);
        }
        let nullable = value.nullable || list.nullable;
        Some(expr(K::In { value: boxed(value), list: boxed(list) }, Type::Bool, nullable, span))
    }

    /// `x in [a, b]` written out as `x == a or x == b`; the list is not empty.
    fn items_one_by_one(&mut self, value: Expr, items: Vec<Expr>, span: Span) -> Option<Expr> {
        let mut result: Option<Expr> = None;
        for item in items {
            let equal = self.binary(BinaryOp::Eq, value.clone(), item, span)?;
            result = Some(match result {
                Some(before) => self.binary(BinaryOp::Or, before, equal, span)?,
                None => equal,
            });
        }
        result
    }

    fn binary(&mut self, op: BinaryOp, left: Expr, right: Expr, span: Span) -> Option<Expr> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                self.expect_bool(&left, &format!("`{}`", op.symbol()))?;
                self.expect_bool(&right, &format!("`{}`", op.symbol()))?;
                let nullable = left.nullable || right.nullable;
                let kind = if op == BinaryOp::And {
                    K::And(boxed(left), boxed(right))
                } else {
                    K::Or(boxed(left), boxed(right))
                };
                Some(expr(kind, Type::Bool, nullable, span))
            }
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let ty = self.join(&left, &right, span)?;
                let cmp = match op {
                    BinaryOp::Eq => CmpOp::Eq,
                    BinaryOp::Ne => CmpOp::Ne,
                    BinaryOp::Lt => CmpOp::Lt,
                    BinaryOp::Le => CmpOp::Le,
                    BinaryOp::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                if matches!(cmp, CmpOp::Eq | CmpOp::Ne) {
                    if matches!(ty, Type::List(_) | Type::Record(_)) {
                        return self.mismatch(
                            span,
                            format!("cannot compare {} with `{}`", self.describe(&ty), op.symbol()),
                            None,
                        );
                    }
                } else {
                    self.ordered(&ty, span, &format!("`{}`", op.symbol()))?;
                }
                let (left, right) = (self.coerce(left, &ty)?, self.coerce(right, &ty)?);
                let nullable = left.nullable || right.nullable;
                Some(expr(K::Compare(cmp, boxed(left), boxed(right)), Type::Bool, nullable, span))
            }
            BinaryOp::Coalesce => {
                if matches!(left.ty, Type::List(_)) || matches!(right.ty, Type::List(_)) {
                    return self.mismatch(span, "`??` does not apply to lists".into(), None);
                }
                let ty = self.join(&left, &right, span)?;
                let (left, right) = (self.coerce(left, &ty)?, self.coerce(right, &ty)?);
                let nullable = right.nullable;
                Some(expr(K::Coalesce(boxed(left), boxed(right)), ty, nullable, span))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => self.arith(op, left, right, span),
        }
    }

    fn arith(&mut self, op: BinaryOp, left: Expr, right: Expr, span: Span) -> Option<Expr> {
        let arith = match op {
            BinaryOp::Add => ArithOp::Add,
            BinaryOp::Sub => ArithOp::Sub,
            BinaryOp::Mul => ArithOp::Mul,
            _ => ArithOp::Div,
        };
        let nullable = left.nullable || right.nullable;
        // Scaling a number of days gives a plain number: `(today - born) / 365`.
        let as_int = |e: Expr| if e.ty == Type::Days { Expr { ty: Type::Int, ..e } } else { e };
        let (left, right) =
            if matches!(arith, ArithOp::Mul | ArithOp::Div) { (as_int(left), as_int(right)) } else { (left, right) };
        let make = |l: Expr, r: Expr, ty: Type, extra: bool| {
            Some(expr(K::Arith(arith, boxed(l), boxed(r)), ty, nullable || extra, span))
        };
        use Type as T;
        match (arith, &left.ty, &right.ty) {
            (ArithOp::Add, T::Date, T::Days) | (ArithOp::Sub, T::Date, T::Days) => make(left, right, T::Date, true),
            (ArithOp::Add, T::Days, T::Date) => make(right, left, T::Date, true),
            (ArithOp::Sub, T::Date, T::Date) => make(left, right, T::Days, false),
            (ArithOp::Add | ArithOp::Sub, T::Days, T::Days | T::Int) | (ArithOp::Add, T::Int, T::Days) => {
                make(left, right, T::Days, true)
            }
            (ArithOp::Mul, T::Money, T::Int) => make(left, right, T::Money, true),
            (ArithOp::Mul, T::Int, T::Money) => make(right, left, T::Money, true),
            (ArithOp::Div, T::Money, T::Int) => make(left, right, T::Money, true),
            (ArithOp::Div, T::Money, T::Money) => {
                let (l, r) = (left, right);
                make(l, r, T::Number, true)
            }
            (_, T::Date | T::Days, _) | (_, _, T::Date | T::Days) => self.mismatch(
                span,
                format!(
                    "cannot apply `{}` to {} and {}",
                    op.symbol(),
                    self.describe(&left.ty),
                    self.describe(&right.ty)
                ),
                Some("dates move by durations: `today - 7 days`; two dates subtract to a number of days".into()),
            ),
            _ => {
                let ty = self.join(&left, &right, span)?;
                if !matches!(ty, T::Int | T::Number | T::Money) {
                    return self.mismatch(
                        span,
                        format!("cannot apply `{}` to {}", op.symbol(), self.describe(&ty)),
                        None,
                    );
                }
                if ty == T::Money && matches!(arith, ArithOp::Mul | ArithOp::Div) {
                    return self.mismatch(
                        span,
                        format!("cannot apply `{}` to two amounts of money", op.symbol()),
                        Some("multiply or divide money by an `int`, or convert: `money(number(total) * 1.5)`".into()),
                    );
                }
                // `int / int` is a `number`: 7 / 2 is 3.5, never 3.
                let ty = if arith == ArithOp::Div && ty == T::Int { T::Number } else { ty };
                let (l, r) = (self.coerce(left, &ty)?, self.coerce(right, &ty)?);
                let extra = ty != T::Number || arith == ArithOp::Div;
                make(l, r, ty, extra)
            }
        }
    }

    fn expect_bool(&mut self, e: &Expr, what: &str) -> Option<()> {
        if e.ty == Type::Bool {
            return Some(());
        }
        self.mismatch(e.span, format!("{what} needs a condition, found {}", self.describe(&e.ty)), None)
    }

    fn ordered(&mut self, ty: &Type, span: Span, what: &str) -> Option<()> {
        if matches!(ty, Type::Int | Type::Number | Type::Money | Type::Date | Type::String | Type::Days) {
            return Some(());
        }
        let help =
            matches!(ty, Type::Enum(_)).then(|| "enum values have no order; compare with `==` or `in`".to_string());
        self.mismatch(span, format!("{what} needs values with an order, found {}", self.describe(ty)), help)
    }

    fn join_all(&mut self, items: &[Expr], span: Span) -> Option<Type> {
        let mut iter = items.iter();
        let Some(first) = iter.next() else {
            return Some(Type::String);
        };
        iter.try_fold(first.ty.clone(), |ty, item| self.join_type(&ty, item, span))
    }

    fn join(&mut self, left: &Expr, right: &Expr, span: Span) -> Option<Type> {
        self.join_type(&left.ty, right, span)
    }

    /// The type two operands meet at: `int` widens to `number` or `money`, a
    /// string literal narrows to an enum member, a decimal literal exact in
    /// cents narrows to `money`.
    fn join_type(&mut self, ty: &Type, other: &Expr, span: Span) -> Option<Type> {
        use Type as T;
        let result = match (ty, &other.ty) {
            (a, b) if a == b => a.clone(),
            (T::Int, T::Number) | (T::Number, T::Int) => T::Number,
            (T::Int, T::Money) | (T::Money, T::Int) => T::Money,
            // A bare int compares with a number of days: `today - last_contact > 30`.
            (T::Int, T::Days) | (T::Days, T::Int) => T::Days,
            (T::Money, T::Number) if self.cents_literals.contains_key(&other.span) => T::Money,
            (T::Number, T::Money) => T::Money,
            (T::Enum(e), T::String) if matches!(other.kind, K::Const(Const::String(_))) => T::Enum(*e),
            (T::String, T::Enum(e)) => T::Enum(*e),
            (T::Money, T::Number) => {
                return self.error_none(
                    Diagnostic::new(Code::MoneyWithNumber, span, "cannot mix `money` with a `number`")
                        .with_label("money is exact, numbers are floating point")
                        .with_help(
                            "write the amount as money, such as `$2500.50`, or convert: `number(amount)`, `money(x)`",
                        ),
                );
            }
            (a, b) => {
                return self.mismatch(span, format!("cannot use {} with {}", self.describe(a), self.describe(b)), None);
            }
        };
        Some(result)
    }

    /// Converts an expression to a type `join` allowed.
    pub(super) fn coerce(&mut self, e: Expr, ty: &Type) -> Option<Expr> {
        use Type as T;
        if &e.ty == ty {
            return Some(e);
        }
        let (span, nullable) = (e.span, e.nullable);
        match (&e.ty, ty) {
            (T::Int, T::Days) => Some(Expr { ty: T::Days, ..e }),
            (T::Int, T::Number) => Some(expr(K::IntToNumber(boxed(e)), T::Number, nullable, span)),
            (T::Int, T::Money) => Some(expr(K::IntToMoney(boxed(e)), T::Money, true, span)),
            (T::Number, T::Money) => match self.cents_literals.get(&span) {
                Some(cents) => Some(expr(K::Const(Const::Money(*cents)), T::Money, false, span)),
                None => self.error_none(
                    Diagnostic::new(Code::MoneyWithNumber, span, "cannot mix `money` with a `number`").with_help(
                        "write the amount as money, such as `$2500.50`, or convert: `number(amount)`, `money(x)`",
                    ),
                ),
            },
            (T::String, T::Enum(id)) => {
                let K::Const(Const::String(text)) = &e.kind else {
                    return self.mismatch(span, "an enum can only be compared with a string literal".to_string(), None);
                };
                let schema = self.schema;
                let members = schema.enums.get(*id).map_or(&[][..], |e| e.members.as_slice());
                let index = self
                    .enum_members
                    .entry(*id)
                    .or_insert_with(|| members.iter().enumerate().map(|(i, m)| (m.clone(), i)).collect());
                match index.get(text.as_str()).copied() {
                    Some(index) => {
                        let index = u32::try_from(index).unwrap_or(u32::MAX);
                        Some(expr(K::Const(Const::Enum(index)), T::Enum(*id), false, span))
                    }
                    None => {
                        let help =
                            self.suggester.did_you_mean(text, members.iter().map(String::as_str)).unwrap_or_else(
                                || format!("the values are {}", list_names(members.iter().map(String::as_str))),
                            );
                        self.error_none(
                            Diagnostic::new(
                                Code::UnknownEnumValue,
                                span,
                                format!("`{text}` is not one of the values of this field"),
                            )
                            .with_help(help),
                        )
                    }
                }
            }
            _ => self.mismatch(span, format!("expected {}, found {}", self.describe(ty), self.describe(&e.ty)), None),
        }
    }

    fn describe(&self, ty: &Type) -> String {
        let text = self.schema.describe(ty);
        match ty {
            Type::List(_) | Type::Record(_) | Type::Days => text,
            Type::Enum(_) => format!("`{text}`"),
            _ => format!("`{text}`"),
        }
    }

    fn mismatch<T>(&mut self, span: Span, message: String, help: Option<String>) -> Option<T> {
        self.error_none(Diagnostic::new(Code::TypeMismatch, span, message).with_help_opt(help))
    }

    fn unknown(&mut self, span: Span, message: String, help: Option<String>) -> Option<Expr> {
        self.error_none(Diagnostic::new(Code::UnknownField, span, message).with_help_opt(help))
    }

    fn error_none<T>(&mut self, diagnostic: Diagnostic) -> Option<T> {
        self.error(diagnostic);
        None
    }
}

/// An item of a list literal as written, before the literal's own join
/// widened it: `[12.50, 100]` alone is a list of numbers, but beside money
/// the `100` is an amount too. A conversion `coerce` added keeps the span
/// of what it converts; one written, `number(age)`, spans the call.
fn as_written(item: Expr) -> Expr {
    match item.kind {
        K::IntToNumber(inner) if inner.span == item.span => *inner,
        kind => Expr { kind, ..item },
    }
}

fn names(path: &[Name]) -> String {
    path.iter().map(|n| n.node.as_str()).collect::<Vec<_>>().join(".")
}

fn names_from(prefix: &str, name: &Name) -> String {
    format!("{prefix}.{}", name.node)
}

/// Checks the condition of a rule or requirement (`owner`, such as "rule
/// `x`"): an expression that must be true or false (E0204); `example` is a
/// comparison the help suggests.
pub(super) fn check_condition(checker: &mut Checker<'_>, expr: &ast::Expr, owner: &str, example: &str) -> Option<Expr> {
    let condition = checker.expr(expr, &Scope::default());
    if let Some(condition) = &condition {
        if condition.ty != Type::Bool {
            let found = checker.schema.describe(&condition.ty);
            checker.error(
                Diagnostic::new(
                    Code::NotACondition,
                    condition.span,
                    format!("the condition of {owner} is not true or false"),
                )
                .with_label(format!("this is `{found}`"))
                .with_help(format!("compare it, such as `{example}`")),
            );
        }
    }
    condition
}
