//! Expressions on one line, with parentheses only where the precedence of
//! `syntax::expr` needs them, and around an `and` inside an `or` for the
//! reader (unless those would nest brackets deeper than the parser accepts).
//! Literals keep their spelling (`$2_500`, `2 weeks`); strings are escaped
//! anew.

use super::trivia::Trivia;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Literal, Name, Spanned, UnaryOp};
use crate::text::source::Span;

/// How tightly an expression binds, loosest first, as in the Pratt parser of
/// `syntax::expr`: `or`, `and`, `not`, comparisons and word operators, `??`,
/// `+ -`, `* /`, unary `-`, and operands.
fn level(kind: &ExprKind) -> u8 {
    match kind {
        ExprKind::Binary(op, ..) => binary_level(*op),
        ExprKind::Unary(UnaryOp::Not, _) => 3,
        ExprKind::Between { .. } | ExprKind::In { .. } | ExprKind::Text(..) | ExprKind::IsMissing { .. } => COMPARISON,
        ExprKind::Unary(UnaryOp::Neg, _) => 8,
        _ => 9,
    }
}

/// The level of comparisons and of the word operators written after a value.
const COMPARISON: u8 = 4;

/// The loosest level the right side of `in`, `between` and the text tests
/// may have unparenthesised: the grammar's `operand` holds arithmetic only.
const ARITHMETIC: u8 = 5;

fn binary_level(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => COMPARISON,
        BinaryOp::Coalesce => 5,
        BinaryOp::Add | BinaryOp::Sub => 6,
        BinaryOp::Mul | BinaryOp::Div => 7,
    }
}

/// An `and` directly inside an `or` is parenthesised for clarity (an `or`
/// inside an `and` needs parentheses anyway).
fn mixes_and_or(op: BinaryOp, child: &ExprKind) -> bool {
    matches!((op, child), (BinaryOp::Or, ExprKind::Binary(BinaryOp::And, ..)))
}

/// The operands of a top-level chain of one of `and` and `or`, which a long
/// condition is broken between: `a and b and c` gives `and` and `a`, `b`, `c`.
pub(super) fn chain(expr: &Expr) -> Option<(BinaryOp, Vec<&Expr>)> {
    let ExprKind::Binary(op @ (BinaryOp::And | BinaryOp::Or), _, _) = &expr.node else { return None };
    let mut operands = Vec::new();
    let mut current = expr;
    while let ExprKind::Binary(o, left, right) = &current.node {
        if o != op {
            break;
        }
        operands.push(&**right);
        current = left;
    }
    operands.push(current);
    operands.reverse();
    Some((*op, operands))
}

/// Prints expressions, reading literal spellings from the source.
#[derive(Clone, Copy)]
pub(super) struct Printer<'a, 't> {
    pub trivia: &'a Trivia<'t>,
    /// Whether an `and` inside an `or` gets parentheses.
    pub clarity: bool,
    /// Whether a `not` written as the right operand of a tighter operator
    /// stays bare (`a < not b`, as the grammar accepts it) instead of
    /// getting the parentheses its precedence asks for: the last resort of
    /// [`Printer::print`] for text at the nesting limit.
    pub bare_not: bool,
}

impl Printer<'_, '_> {
    /// An expression on one line.
    pub(super) fn expr(&self, expr: &Expr) -> String {
        self.print(|printer, out| printer.write(out, expr))
    }

    /// An operand of a chain of `op`, parenthesised as it needs to be there
    /// (`first`: the leftmost operand).
    pub(super) fn operand(&self, op: BinaryOp, operand: &Expr, first: bool) -> String {
        self.print(|printer, out| printer.binary_child(out, op, operand, first))
    }

    /// Prints with the parentheses for clarity, unless they would nest
    /// brackets deeper than the parser accepts: the text had at most
    /// [`crate::syntax::MAX_NESTING`] without them. Then without them, and
    /// then with a `not` after an operator left bare as it may have been
    /// written (`a < not not ... b`, where `(` would add a level); the
    /// formatter's check that the text keeps its meaning stands behind
    /// that last try.
    fn print(&self, write: impl Fn(&Self, &mut String)) -> String {
        let mut out = String::new();
        write(self, &mut out);
        for fallback in [Printer { clarity: false, ..*self }, Printer { clarity: false, bare_not: true, ..*self }] {
            if crate::syntax::too_deep(&out).is_none() {
                break;
            }
            out.clear();
            write(&fallback, &mut out);
        }
        out
    }

    fn write(&self, out: &mut String, expr: &Expr) {
        match &expr.node {
            ExprKind::Literal(literal) => out.push_str(&self.literal(literal, expr.span)),
            ExprKind::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write(out, item);
                }
                out.push(']');
            }
            ExprKind::Path(path) => out.push_str(&path_text(path)),
            ExprKind::Today => out.push_str("today"),
            ExprKind::It => out.push_str("it"),
            ExprKind::Has(path) => {
                out.push_str("has ");
                out.push_str(&path_text(path));
            }
            ExprKind::IsMissing { value, negated } => {
                self.child(out, value, COMPARISON);
                out.push_str(if *negated { " is not missing" } else { " is missing" });
            }
            ExprKind::Unary(op, value) => {
                let (word, min) = match op {
                    UnaryOp::Not => ("not ", 3),
                    UnaryOp::Neg => ("-", 8),
                };
                out.push_str(word);
                self.child(out, value, min);
            }
            ExprKind::Binary(op, left, right) => {
                self.binary_child(out, *op, left, true);
                out.push(' ');
                out.push_str(op.symbol());
                out.push(' ');
                self.binary_child(out, *op, right, false);
            }
            ExprKind::Between { value, low, high } => {
                self.child(out, value, COMPARISON);
                out.push_str(" between ");
                self.child(out, low, ARITHMETIC);
                out.push_str(" and ");
                self.child(out, high, ARITHMETIC);
            }
            ExprKind::In { value, list, negated } => {
                self.child(out, value, COMPARISON);
                out.push_str(if *negated { " not in " } else { " in " });
                self.child(out, list, ARITHMETIC);
            }
            ExprKind::Text(op, value, pattern) => {
                self.child(out, value, COMPARISON);
                out.push(' ');
                out.push_str(op.word());
                out.push(' ');
                self.child(out, pattern, ARITHMETIC);
            }
            ExprKind::Convert { to, value } => {
                out.push_str(to.keyword());
                out.push('(');
                self.write(out, value);
                out.push(')');
            }
            ExprKind::Bucket { value, salt } => {
                out.push_str("bucket(");
                self.write(out, value);
                out.push_str(", ");
                out.push_str(&quote(&salt.node));
                out.push(')');
            }
            ExprKind::Aggregate { func, source, filter } => {
                out.push_str(func.node.name());
                out.push('(');
                out.push_str(&path_text(source));
                if let Some(filter) = filter {
                    out.push_str(" where ");
                    self.write(out, filter);
                }
                out.push(')');
            }
        }
    }

    /// A left (`first`) or right operand of a left-associative operator.
    fn binary_child(&self, out: &mut String, op: BinaryOp, child: &Expr, first: bool) {
        let own = binary_level(op);
        let min = if first { own } else { own + 1 };
        if self.clarity && mixes_and_or(op, &child.node) {
            self.parenthesised(out, child);
        } else if self.bare_not && !first && matches!(child.node, ExprKind::Unary(UnaryOp::Not, _)) {
            self.write(out, child);
        } else {
            self.child(out, child, min);
        }
    }

    /// A subexpression that must bind at least as tightly as `min`.
    fn child(&self, out: &mut String, child: &Expr, min: u8) {
        if level(&child.node) < min {
            self.parenthesised(out, child);
        } else {
            self.write(out, child);
        }
    }

    fn parenthesised(&self, out: &mut String, expr: &Expr) {
        out.push('(');
        self.write(out, expr);
        out.push(')');
    }

    /// A literal as written: numbers, money, dates and durations from their
    /// span, strings escaped anew.
    pub(super) fn literal(&self, literal: &Literal, span: Span) -> String {
        let words = self.trivia.words(span.start, span.end);
        match literal {
            Literal::Bool(b) => b.to_string(),
            Literal::String(s) => quote(s),
            Literal::Days(days) => match words.as_slice() {
                [count, unit] => format!("{count} {unit}"),
                _ => format!("{days} days"),
            },
            Literal::Int(_) | Literal::Decimal { .. } | Literal::Money(_) | Literal::Date(_) => {
                // A negative profile value spans `-` and the number.
                let spelled = words.concat();
                if spelled.is_empty() {
                    fallback(literal)
                } else {
                    spelled
                }
            }
        }
    }
}

/// A literal spelled from its value, for a span that does not hold it (not
/// expected to happen).
fn fallback(literal: &Literal) -> String {
    match literal {
        Literal::Bool(b) => b.to_string(),
        Literal::Int(i) => i.to_string(),
        Literal::Decimal { value, .. } => format!("{value:?}"),
        Literal::Money(cents) => {
            let sign = if *cents < 0 { "-" } else { "" };
            let cents = cents.unsigned_abs();
            format!("{sign}${}.{:02}", cents / 100, cents % 100)
        }
        Literal::String(s) => quote(s),
        Literal::Date(date) => date.to_string(),
        Literal::Days(days) => format!("{days} days"),
    }
}

/// `scores.support`
pub(super) fn path_text(path: &[Name]) -> String {
    path.iter().map(|name| name.node.as_str()).collect::<Vec<_>>().join(".")
}

/// A string literal: `"` and `\` escaped, newlines and tabs as `\n` and
/// `\t`, everything else as it is.
pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string with its span.
pub(super) fn quoted(text: &Spanned<String>) -> String {
    quote(&text.node)
}
