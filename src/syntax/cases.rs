//! Lowering of the test items: `profile` declarations, `test` cases and the
//! profile data written in them.

use pest::iterators::Pair;

use super::grammar::Rule;
use super::lower::{internal, Lower};
use crate::syntax::ast::{
    Entry, Expectation, Given, Literal, ProfileDecl, ProfileValue, Spanned, StreamKind, Test, TestClause, Value,
};
use crate::text::diagnostic::Diagnostic;
use crate::value::Date;

impl Lower {
    pub(super) fn profile_decl(&self, pair: Pair<'_, Rule>) -> Result<ProfileDecl, Diagnostic> {
        let mut children = self.children(pair, Rule::profile_decl)?;
        let name = self.name(children.expect(Rule::name)?)?;
        let value = self.profile_value(children.expect(Rule::profile_value)?)?;
        children.finish()?;
        Ok(ProfileDecl { name, value })
    }

    fn profile_value(&self, pair: Pair<'_, Rule>) -> Result<Spanned<ProfileValue>, Diagnostic> {
        let span = self.span(&pair);
        let mut children = self.children(pair, Rule::profile_value)?;
        let value = match children.optional(Rule::record_value) {
            Some(record) => ProfileValue::Record(self.record_value(record)?),
            None => {
                let base = self.name(children.expect(Rule::name)?)?;
                let with = match children.optional(Rule::record_value) {
                    Some(record) => Some(self.record_value(record)?),
                    None => None,
                };
                ProfileValue::Extend { base, with }
            }
        };
        children.finish()?;
        Ok(Spanned::new(value, span))
    }

    fn record_value(&self, pair: Pair<'_, Rule>) -> Result<Vec<Entry>, Diagnostic> {
        let children = self.children(pair, Rule::record_value)?;
        children.rest().map(|entry| self.entry(entry)).collect()
    }

    fn entry(&self, pair: Pair<'_, Rule>) -> Result<Entry, Diagnostic> {
        let mut children = self.children(pair, Rule::entry)?;
        let path = self.path(children.expect(Rule::path)?)?;
        let value = self.value(children.next()?)?;
        children.finish()?;
        Ok(Entry { path, value })
    }

    fn value(&self, pair: Pair<'_, Rule>) -> Result<Spanned<Value>, Diagnostic> {
        let span = self.span(&pair);
        let value = match pair.as_rule() {
            Rule::record_value => Value::Record(self.record_value(pair)?),
            Rule::list_value => {
                let children = self.children(pair, Rule::list_value)?;
                Value::List(children.rest().map(|item| self.value(item)).collect::<Result<_, _>>()?)
            }
            Rule::missing_value => Value::Missing,
            Rule::negative => {
                let mut children = self.children(pair, Rule::negative)?;
                let literal = self.literal(children.next()?)?;
                children.finish()?;
                Value::Literal(match literal {
                    Literal::Int(i) => Literal::Int(i.checked_neg().unwrap_or(i64::MIN)),
                    Literal::Money(m) => Literal::Money(-m),
                    Literal::Decimal { value, cents } => Literal::Decimal { value: -value, cents: cents.map(|c| -c) },
                    _ => return Err(internal(span, "negative value")),
                })
            }
            _ => Value::Literal(self.literal(pair)?),
        };
        Ok(Spanned::new(value, span))
    }

    pub(super) fn test(&self, pair: Pair<'_, Rule>) -> Result<Test, Diagnostic> {
        let mut children = self.children(pair, Rule::test_decl)?;
        let name = self.string(children.expect(Rule::string_lit)?)?;
        let clauses = children.rest().map(|clause| self.test_clause(clause)).collect::<Result<_, _>>()?;
        Ok(Test { name, clauses })
    }

    fn test_clause(&self, pair: Pair<'_, Rule>) -> Result<Spanned<TestClause>, Diagnostic> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut children = self.children(pair, rule)?;
        let clause = match rule {
            Rule::given => {
                let given = match children.optional(Rule::string_lit) {
                    Some(path) => Given::File(self.string(path)?),
                    None => Given::Profile(self.profile_value(children.expect(Rule::profile_value)?)?),
                };
                TestClause::Given(given)
            }
            Rule::test_today => match self.literal(children.expect(Rule::date_lit)?)? {
                Literal::Date(date) => TestClause::Today(date),
                _ => TestClause::Today(Date(0)),
            },
            Rule::expect => {
                TestClause::Expect(children.by_ref_rest().map(|e| self.expectation(e)).collect::<Result<_, _>>()?)
            }
            _ => return Err(internal(span, "test clause")),
        };
        children.finish()?;
        Ok(Spanned::new(clause, span))
    }

    fn expectation(&self, pair: Pair<'_, Rule>) -> Result<Spanned<Expectation>, Diagnostic> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut children = self.children(pair, rule)?;
        let expectation = match rule {
            Rule::assign => Expectation::Assigned(self.name(children.expect(Rule::name)?)?.node),
            Rule::suppress => Expectation::NotAssigned(self.name(children.expect(Rule::name)?)?.node),
            Rule::suppress_all => Expectation::NoneOf(self.stream_kinds(children.expect(Rule::stream_kinds)?)?),
            Rule::expect_exact => {
                let kind = self.stream_kinds(children.expect(Rule::stream_kinds)?)?;
                let names = children.by_ref_rest().map(|n| self.name(n)).collect::<Result<_, _>>()?;
                Expectation::Exactly(kind, names)
            }
            _ => return Err(internal(span, "expectation")),
        };
        children.finish()?;
        Ok(Spanned::new(expectation, span))
    }

    pub(super) fn stream_kinds(&self, pair: Pair<'_, Rule>) -> Result<StreamKind, Diagnostic> {
        match pair.as_str() {
            "solicitations" => Ok(StreamKind::Solicitation),
            "issues" => Ok(StreamKind::Issue),
            _ => Err(internal(self.span(&pair), "stream kind")),
        }
    }
}
