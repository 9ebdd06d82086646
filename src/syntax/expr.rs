//! Expressions: operands and operators folded by precedence with pest's Pratt
//! parser (lowest first: `or`, `and`, `not`, comparisons and word operators,
//! `??`, `+ -`, `* /`, unary `-`).

use std::sync::OnceLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::grammar::Rule;
use super::lower::{internal, Lower};
use crate::syntax::ast::{AggregateFn, BinaryOp, Expr, ExprKind, Literal, Name, ScalarType, Spanned, TextOp, UnaryOp};
use crate::text::diagnostic::{Code, Diagnostic};
use crate::text::source::Span;
use crate::value::{parse_cents, Date};

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::or, Assoc::Left))
            .op(Op::infix(Rule::and, Assoc::Left))
            .op(Op::prefix(Rule::not))
            .op(Op::infix(Rule::eq, Assoc::Left)
                | Op::infix(Rule::ne, Assoc::Left)
                | Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left)
                | Op::postfix(Rule::between)
                | Op::postfix(Rule::not_in)
                | Op::postfix(Rule::in_list)
                | Op::postfix(Rule::contains)
                | Op::postfix(Rule::starts_with)
                | Op::postfix(Rule::ends_with)
                | Op::postfix(Rule::is_missing)
                | Op::postfix(Rule::is_present))
            .op(Op::infix(Rule::coalesce, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
            .op(Op::prefix(Rule::neg))
    })
}

fn binary_op(rule: Rule) -> Option<BinaryOp> {
    Some(match rule {
        Rule::or => BinaryOp::Or,
        Rule::and => BinaryOp::And,
        Rule::eq => BinaryOp::Eq,
        Rule::ne => BinaryOp::Ne,
        Rule::lt => BinaryOp::Lt,
        Rule::le => BinaryOp::Le,
        Rule::gt => BinaryOp::Gt,
        Rule::ge => BinaryOp::Ge,
        Rule::coalesce => BinaryOp::Coalesce,
        Rule::add => BinaryOp::Add,
        Rule::sub => BinaryOp::Sub,
        Rule::mul => BinaryOp::Mul,
        Rule::div => BinaryOp::Div,
        _ => return None,
    })
}

impl Lower {
    /// `expr` and `operand`: a flat operator sequence folded by precedence.
    pub(super) fn expr(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let span = self.span(&pair);
        if !matches!(pair.as_rule(), Rule::expr | Rule::operand) {
            return Err(internal(span, "expression"));
        }
        pratt()
            .map_primary(|primary| self.primary(primary))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let span = self.span(&op).to(rhs.span);
                let op = match op.as_rule() {
                    Rule::not => UnaryOp::Not,
                    Rule::neg => UnaryOp::Neg,
                    _ => return Err(internal(span, "prefix operator")),
                };
                Ok(Spanned::new(ExprKind::Unary(op, Box::new(rhs)), span))
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let span = lhs.span.to(rhs.span);
                let op = binary_op(op.as_rule()).ok_or_else(|| internal(span, "operator"))?;
                Ok(Spanned::new(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span))
            })
            .map_postfix(|lhs, op| self.postfix(lhs?, op))
            .parse(pair.into_inner())
    }

    fn postfix(&self, value: Expr, op: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let span = value.span.to(self.span(&op));
        let rule = op.as_rule();
        let mut children = self.children(op, rule)?;
        let value = Box::new(value);
        let kind = match rule {
            Rule::between => {
                let low = Box::new(self.expr(children.expect(Rule::operand)?)?);
                let high = Box::new(self.expr(children.expect(Rule::operand)?)?);
                ExprKind::Between { value, low, high }
            }
            Rule::in_list | Rule::not_in => {
                let list = Box::new(self.expr(children.expect(Rule::operand)?)?);
                ExprKind::In { value, list, negated: rule == Rule::not_in }
            }
            Rule::contains | Rule::starts_with | Rule::ends_with => {
                let op = match rule {
                    Rule::contains => TextOp::Contains,
                    Rule::starts_with => TextOp::StartsWith,
                    _ => TextOp::EndsWith,
                };
                ExprKind::Text(op, value, Box::new(self.expr(children.expect(Rule::operand)?)?))
            }
            Rule::is_missing => ExprKind::IsMissing { value, negated: false },
            Rule::is_present => ExprKind::IsMissing { value, negated: true },
            _ => return Err(internal(span, "postfix operator")),
        };
        children.finish()?;
        Ok(Spanned::new(kind, span))
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::group => {
                let mut children = self.children(pair, Rule::group)?;
                let inner = self.expr(children.expect(Rule::expr)?)?;
                children.finish()?;
                // The group's span includes its parentheses.
                return Ok(Spanned::new(inner.node, span));
            }
            Rule::today => ExprKind::Today,
            Rule::it => ExprKind::It,
            Rule::path => ExprKind::Path(self.path(pair)?),
            Rule::has => {
                let mut children = self.children(pair, Rule::has)?;
                let path = self.path(children.expect(Rule::path)?)?;
                children.finish()?;
                ExprKind::Has(path)
            }
            Rule::aggregate => self.aggregate(pair)?,
            Rule::bucket => {
                let mut children = self.children(pair, Rule::bucket)?;
                let value = Box::new(self.expr(children.expect(Rule::expr)?)?);
                let mut salt_children = self.children(children.expect(Rule::salt)?, Rule::salt)?;
                let salt = self.string(salt_children.expect(Rule::string_lit)?)?;
                salt_children.finish()?;
                children.finish()?;
                ExprKind::Bucket { value, salt }
            }
            Rule::convert => {
                let mut children = self.children(pair, Rule::convert)?;
                let target = children.expect(Rule::convert_to)?;
                let to = if target.as_str() == "money" { ScalarType::Money } else { ScalarType::Number };
                let value = Box::new(self.expr(children.expect(Rule::expr)?)?);
                children.finish()?;
                ExprKind::Convert { to, value }
            }
            Rule::list_lit => {
                let children = self.children(pair, Rule::list_lit)?;
                let items: Vec<Expr> = children.rest().map(|item| self.expr(item)).collect::<Result<_, _>>()?;
                if items.len() > super::grammar::MAX_LIST_ITEMS {
                    return Err(Diagnostic::new(
                        Code::TooLarge,
                        Span { end: span.start + 1, ..span },
                        format!(
                            "list has {} items, more than the limit of {}",
                            items.len(),
                            super::grammar::MAX_LIST_ITEMS
                        ),
                    )
                    .with_help("keep such a list in the profiles, or split the rule"));
                }
                ExprKind::List(items)
            }
            _ => ExprKind::Literal(self.literal(pair)?),
        };
        Ok(Spanned::new(kind, span))
    }

    pub(super) fn path(&self, pair: Pair<'_, Rule>) -> Result<Vec<Name>, Diagnostic> {
        let children = self.children(pair, Rule::path)?;
        children.rest().map(|name| self.name(name)).collect()
    }

    fn aggregate(&self, pair: Pair<'_, Rule>) -> Result<ExprKind, Diagnostic> {
        let mut children = self.children(pair, Rule::aggregate)?;
        let func_pair = children.expect(Rule::agg_fn)?;
        let func_span = self.span(&func_pair);
        let func = match func_pair.as_str() {
            "sum" => AggregateFn::Sum,
            "count" => AggregateFn::Count,
            "min" => AggregateFn::Min,
            "max" => AggregateFn::Max,
            "avg" => AggregateFn::Avg,
            "any" => AggregateFn::Any,
            "all" => AggregateFn::All,
            _ => return Err(internal(func_span, "aggregate")),
        };
        let source = self.path(children.expect(Rule::path)?)?;
        let filter = match children.optional(Rule::expr) {
            Some(filter) => Some(Box::new(self.expr(filter)?)),
            None => None,
        };
        children.finish()?;
        Ok(ExprKind::Aggregate { func: Spanned::new(func, func_span), source, filter })
    }

    pub(super) fn literal(&self, pair: Pair<'_, Rule>) -> Result<Literal, Diagnostic> {
        let span = self.span(&pair);
        let text = pair.as_str();
        let invalid = |message: String| {
            self.diagnostics.borrow_mut().push(Diagnostic::new(Code::InvalidLiteral, span, message));
        };
        Ok(match pair.as_rule() {
            Rule::bool_lit => Literal::Bool(text == "true"),
            Rule::string_lit => Literal::String(self.string(pair)?.node),
            Rule::int_lit => Literal::Int(self.int(&pair)?),
            Rule::number_lit => {
                let digits = text.replace('_', "");
                let value = digits.parse::<f64>().unwrap_or(f64::NAN);
                if !value.is_finite() {
                    invalid(format!("`{text}` is not a finite number"));
                }
                Literal::Decimal { value, cents: parse_cents(&digits) }
            }
            Rule::money_lit => {
                let digits = text.trim_start_matches('$').replace('_', "");
                match parse_cents(&digits) {
                    Some(cents) => Literal::Money(cents),
                    None => {
                        invalid(format!("`{text}` is not an amount of money"));
                        Literal::Money(0)
                    }
                }
            }
            Rule::date_lit => match Date::parse(text) {
                Some(date) => Literal::Date(date),
                None => {
                    invalid(format!("`{text}` is not a calendar date"));
                    Literal::Date(Date(0))
                }
            },
            Rule::duration => {
                let mut children = self.children(pair, Rule::duration)?;
                let count = self.int(&children.expect(Rule::int_lit)?)?;
                let unit = children.expect(Rule::time_unit)?;
                children.finish()?;
                let per = if unit.as_str().starts_with("week") { 7 } else { 1 };
                Literal::Days(count.checked_mul(per).unwrap_or_else(|| {
                    invalid(format!("`{text}` is too long a duration"));
                    0
                }))
            }
            _ => return Err(internal(span, "literal")),
        })
    }

    fn int(&self, pair: &Pair<'_, Rule>) -> Result<i64, Diagnostic> {
        let span = self.span(pair);
        if pair.as_rule() != Rule::int_lit {
            return Err(internal(span, "number"));
        }
        let text = pair.as_str();
        Ok(text.replace('_', "").parse::<i64>().unwrap_or_else(|_| {
            self.diagnostics.borrow_mut().push(
                Diagnostic::new(Code::InvalidLiteral, span, format!("`{text}` is too large for an `int`"))
                    .with_help("an `int` lies between -9223372036854775808 and 9223372036854775807"),
            );
            0
        }))
    }
}
