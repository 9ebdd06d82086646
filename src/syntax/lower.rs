//! One lowering function per grammar rule: check the rule, take the children
//! in order, check none is left.

use pest::iterators::Pair;

use super::grammar::Rule;
use crate::syntax::ast::{
    Action, Cap, Definition, FieldDecl, File, Holdout, Item, Name, Policy, PolicyClause, Required, Requirement,
    Rule as RuleItem, ScalarType, Spanned, StreamDecl, StreamDecls, StreamKind, TypeExpr,
};
use crate::text::diagnostic::{Code, Diagnostic};
use crate::text::source::{FileId, Span};

/// Lowering state: the file being lowered, where its comments are, and the
/// diagnostics found on the way (invalid literals do not stop lowering).
pub(super) struct Lower {
    pub(super) file: FileId,
    /// The byte range of every comment, in order.
    comments: Vec<(usize, usize)>,
    pub(super) diagnostics: std::cell::RefCell<Vec<Diagnostic>>,
}

/// The children of a pair, keywords skipped, taken one at a time.
pub(super) struct Children<'i> {
    inner: std::iter::Peekable<std::vec::IntoIter<Pair<'i, Rule>>>,
    parent: Span,
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_narval
            | Rule::kw_import
            | Rule::kw_schema
            | Rule::kw_optional
            | Rule::kw_tagged
            | Rule::kw_list
            | Rule::kw_of
            | Rule::kw_one
            | Rule::kw_stream
            | Rule::kw_streams
            | Rule::kw_no
            | Rule::kw_not
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_in
            | Rule::kw_between
            | Rule::kw_contains
            | Rule::kw_starts_with
            | Rule::kw_ends_with
            | Rule::kw_is
            | Rule::kw_missing
            | Rule::kw_has
            | Rule::kw_where
            | Rule::kw_today
            | Rule::kw_it
            | Rule::kw_profile
            | Rule::kw_with
            | Rule::kw_test
            | Rule::kw_given
            | Rule::kw_expect
            | Rule::kw_require
            | Rule::kw_for
            | Rule::kw_holdout
            | Rule::kw_at
            | Rule::kw_most
            | Rule::kw_bucket
            | Rule::kw_policy
            | Rule::kw_only
            | Rule::kw_read
            | Rule::kw_never
            | Rule::kw_if
            | Rule::EOI
    )
}

/// Operator tokens, for [`Lower::bounded_expr`].
fn is_operator(rule: Rule) -> bool {
    super::grammar::is_operator(rule) || matches!(rule, Rule::not | Rule::neg | Rule::aggregate | Rule::convert)
}

/// An internal inconsistency between grammar and lowering: reported as a
/// syntax error rather than a panic.
pub(super) fn internal(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(Code::Syntax, span, format!("internal error: the parser produced an unexpected {what}"))
        .with_help("please report this rule file to the narval maintainers")
}

impl<'i> Children<'i> {
    /// The next child, whatever it is.
    pub(super) fn next(&mut self) -> Result<Pair<'i, Rule>, Diagnostic> {
        self.inner.next().ok_or_else(|| internal(self.parent, "end of a node"))
    }

    /// The next child, which must be of `rule`.
    pub(super) fn expect(&mut self, rule: Rule) -> Result<Pair<'i, Rule>, Diagnostic> {
        let pair = self.next()?;
        if pair.as_rule() == rule {
            Ok(pair)
        } else {
            Err(internal(self.parent, "node"))
        }
    }

    /// The next child if it is of `rule`.
    pub(super) fn optional(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        self.inner.next_if(|p| p.as_rule() == rule)
    }

    /// Every remaining child.
    pub(super) fn rest(self) -> impl Iterator<Item = Pair<'i, Rule>> {
        self.inner
    }

    /// The remaining children, leaving `self` to be finished.
    pub(super) fn by_ref_rest(&mut self) -> impl Iterator<Item = Pair<'i, Rule>> + '_ {
        self.inner.by_ref()
    }

    /// Checks that nothing is left.
    pub(super) fn finish(mut self) -> Result<(), Diagnostic> {
        match self.inner.next() {
            None => Ok(()),
            Some(_) => Err(internal(self.parent, "extra node")),
        }
    }
}

impl Lower {
    pub(super) fn new(file: FileId, text: &str) -> Lower {
        Lower { file, comments: super::grammar::comments(text), diagnostics: std::cell::RefCell::new(Vec::new()) }
    }

    /// The span of a pair, from its first token to its last.
    pub(super) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), self.code_end(s.start(), s.as_str()))
    }

    /// Where the code of `text` (found at `start`) ends. A rule that ends in
    /// a repetition, such as the operand of `in`, keeps in its pest span the
    /// whitespace and comments after its last token: `x in [1]  # note`.
    fn code_end(&self, start: usize, text: &str) -> usize {
        let mut end = start + text.trim_end_matches([' ', '\t', '\r', '\n']).len();
        loop {
            let i = self.comments.partition_point(|&(from, _)| from < end);
            match i.checked_sub(1).and_then(|i| self.comments.get(i)) {
                // `end` falls inside a comment, after any whitespace was cut.
                Some(&(from, to)) if from >= start && end <= to => {
                    let code = text.get(..from - start).unwrap_or("");
                    end = start + code.trim_end_matches([' ', '\t', '\r', '\n']).len();
                }
                _ => return end,
            }
        }
    }

    /// Children of a pair whose rule must be `rule`.
    pub(super) fn children<'i>(&self, pair: Pair<'i, Rule>, rule: Rule) -> Result<Children<'i>, Diagnostic> {
        let parent = self.span(&pair);
        if pair.as_rule() != rule {
            return Err(internal(parent, "node"));
        }
        let kept: Vec<Pair<'i, Rule>> = pair.into_inner().filter(|p| !is_keyword(p.as_rule())).collect();
        Ok(Children { inner: kept.into_iter().peekable(), parent })
    }

    pub(super) fn file(&self, pair: Pair<'_, Rule>) -> Result<File, Diagnostic> {
        let mut children = self.children(pair, Rule::file)?;
        let version = match children.optional(Rule::version) {
            Some(pair) => Some(self.version(pair)?),
            None => None,
        };
        let mut items = Vec::new();
        for pair in children.rest() {
            items.push(self.item(pair)?);
        }
        Ok(File { version, items })
    }

    fn version(&self, pair: Pair<'_, Rule>) -> Result<Spanned<u32>, Diagnostic> {
        let span = self.span(&pair);
        let mut children = self.children(pair, Rule::version)?;
        let number = children.expect(Rule::int_lit)?;
        children.finish()?;
        let value = number.as_str().replace('_', "").parse::<u32>().unwrap_or(u32::MAX);
        Ok(Spanned::new(value, span))
    }

    fn item(&self, pair: Pair<'_, Rule>) -> Result<Item, Diagnostic> {
        match pair.as_rule() {
            Rule::import => self.import(pair).map(Item::Import),
            Rule::schema => self.schema(pair).map(Item::Schema),
            Rule::streams => self.streams(pair).map(Item::Streams),
            Rule::definition => self.definition(pair).map(Item::Definition),
            Rule::rule_decl => self.rule(pair).map(Item::Rule),
            Rule::profile_decl => self.profile_decl(pair).map(Item::Profile),
            Rule::test_decl => self.test(pair).map(Item::Test),
            Rule::require_decl => self.requirement(pair).map(Item::Require),
            Rule::holdout_decl => self.holdout(pair).map(Item::Holdout),
            Rule::cap_decl => self.cap(pair).map(Item::Cap),
            Rule::policy_use => self.policy_use(pair).map(Item::PolicyUse),
            Rule::policy_decl => self.policy(pair).map(Item::Policy),
            _ => Err(internal(self.span(&pair), "item")),
        }
    }

    fn policy_use(&self, pair: Pair<'_, Rule>) -> Result<Spanned<String>, Diagnostic> {
        let mut children = self.children(pair, Rule::policy_use)?;
        let path = children.expect(Rule::string_lit)?;
        children.finish()?;
        self.string(path)
    }

    fn policy(&self, pair: Pair<'_, Rule>) -> Result<Policy, Diagnostic> {
        let mut children = self.children(pair, Rule::policy_decl)?;
        let name = self.name(children.expect(Rule::name)?)?;
        let description = match children.optional(Rule::string_lit) {
            Some(text) => Some(self.string(text)?.node),
            None => None,
        };
        let clauses = children.rest().map(|clause| self.policy_clause(clause)).collect::<Result<_, _>>()?;
        Ok(Policy { name, description, clauses })
    }

    fn policy_clause(&self, pair: Pair<'_, Rule>) -> Result<Spanned<PolicyClause>, Diagnostic> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let clause = match rule {
            Rule::only_read => {
                let children = self.children(pair, Rule::only_read)?;
                PolicyClause::OnlyRead(children.rest().map(|path| self.path(path)).collect::<Result<_, _>>()?)
            }
            Rule::never_read => {
                let children = self.children(pair, Rule::never_read)?;
                let categories = children.rest().map(|c| self.wrapped_name(c, Rule::category));
                PolicyClause::NeverRead(categories.collect::<Result<_, _>>()?)
            }
            Rule::read_only_if => {
                let mut children = self.children(pair, Rule::read_only_if)?;
                let mut categories = Vec::new();
                while let Some(category) = children.optional(Rule::category) {
                    categories.push(self.wrapped_name(category, Rule::category)?);
                }
                let consent = self.path(children.expect(Rule::path)?)?;
                children.finish()?;
                PolicyClause::ReadOnlyIf { categories, consent }
            }
            _ => return Err(internal(span, "policy clause")),
        };
        Ok(Spanned::new(clause, span))
    }

    fn import(&self, pair: Pair<'_, Rule>) -> Result<Spanned<String>, Diagnostic> {
        let mut children = self.children(pair, Rule::import)?;
        let path = children.expect(Rule::string_lit)?;
        children.finish()?;
        self.string(path)
    }

    fn schema(&self, pair: Pair<'_, Rule>) -> Result<Vec<FieldDecl>, Diagnostic> {
        let mut children = self.children(pair, Rule::schema)?;
        let fields = self.field_list(children.expect(Rule::field_list)?)?;
        children.finish()?;
        Ok(fields)
    }

    fn field_list(&self, pair: Pair<'_, Rule>) -> Result<Vec<FieldDecl>, Diagnostic> {
        let children = self.children(pair, Rule::field_list)?;
        children.rest().map(|field| self.field(field)).collect()
    }

    fn field(&self, pair: Pair<'_, Rule>) -> Result<FieldDecl, Diagnostic> {
        let mut children = self.children(pair, Rule::field)?;
        let name = self.name(children.expect(Rule::name)?)?;
        let optional = children.optional(Rule::optional).is_some();
        let ty = self.field_type(children.next()?)?;
        let in_cents = children.optional(Rule::in_cents).map(|unit| Spanned { node: (), span: self.span(&unit) });
        let tags = match children.optional(Rule::tags) {
            Some(tags) => self.tags(tags)?,
            None => Vec::new(),
        };
        children.finish()?;
        Ok(FieldDecl { name, optional, ty, in_cents, tags })
    }

    fn tags(&self, pair: Pair<'_, Rule>) -> Result<Vec<Name>, Diagnostic> {
        let children = self.children(pair, Rule::tags)?;
        children.rest().map(|tag| self.wrapped_name(tag, Rule::tag)).collect()
    }

    /// A rule whose only child is a `name`, such as `tag` and `enum_member`.
    fn wrapped_name(&self, pair: Pair<'_, Rule>, rule: Rule) -> Result<Name, Diagnostic> {
        let mut children = self.children(pair, rule)?;
        let name = self.name(children.expect(Rule::name)?)?;
        children.finish()?;
        Ok(name)
    }

    fn field_type(&self, pair: Pair<'_, Rule>) -> Result<Spanned<TypeExpr>, Diagnostic> {
        let span = self.span(&pair);
        let ty = match pair.as_rule() {
            Rule::scalar_type => TypeExpr::Scalar(match pair.as_str() {
                "bool" => ScalarType::Bool,
                "int" => ScalarType::Int,
                "number" => ScalarType::Number,
                "money" => ScalarType::Money,
                "string" => ScalarType::String,
                "date" => ScalarType::Date,
                _ => return Err(internal(span, "type")),
            }),
            Rule::list_type => {
                let mut children = self.children(pair, Rule::list_type)?;
                let element = self.field_type(children.next()?)?;
                children.finish()?;
                TypeExpr::List(Box::new(element))
            }
            Rule::record_type => {
                let mut children = self.children(pair, Rule::record_type)?;
                let fields = self.field_list(children.expect(Rule::field_list)?)?;
                children.finish()?;
                TypeExpr::Record(fields)
            }
            Rule::enum_type => {
                let children = self.children(pair, Rule::enum_type)?;
                let members = children
                    .rest()
                    .map(|member| Spanned::new(member.as_str().to_string(), self.span(&member)))
                    .collect();
                TypeExpr::Enum(members)
            }
            _ => return Err(internal(span, "type")),
        };
        Ok(Spanned::new(ty, span))
    }

    fn streams(&self, pair: Pair<'_, Rule>) -> Result<StreamDecls, Diagnostic> {
        let mut children = self.children(pair, Rule::streams)?;
        let kind_pair = children.expect(Rule::stream_kind)?;
        let kind = match kind_pair.as_str() {
            "solicitation" => StreamKind::Solicitation,
            "issue" => StreamKind::Issue,
            _ => return Err(internal(self.span(&kind_pair), "stream kind")),
        };
        let streams = children.rest().map(|decl| self.stream_decl(decl)).collect::<Result<_, _>>()?;
        Ok(StreamDecls { kind, streams })
    }

    fn stream_decl(&self, pair: Pair<'_, Rule>) -> Result<StreamDecl, Diagnostic> {
        let mut children = self.children(pair, Rule::stream_decl)?;
        let name = self.name(children.expect(Rule::name)?)?;
        let description = match children.optional(Rule::string_lit) {
            Some(text) => Some(self.string(text)?.node),
            None => None,
        };
        children.finish()?;
        Ok(StreamDecl { name, description })
    }

    fn definition(&self, pair: Pair<'_, Rule>) -> Result<Definition, Diagnostic> {
        let mut children = self.children(pair, Rule::definition)?;
        let name = self.name(children.expect(Rule::name)?)?;
        let value = self.bounded_expr(children.expect(Rule::expr)?)?;
        children.finish()?;
        Ok(Definition { name, value })
    }

    fn rule(&self, pair: Pair<'_, Rule>) -> Result<RuleItem, Diagnostic> {
        let mut children = self.children(pair, Rule::rule_decl)?;
        let name = self.name(children.expect(Rule::name)?)?;
        let description = match children.optional(Rule::string_lit) {
            Some(text) => Some(self.string(text)?.node),
            None => None,
        };
        let condition = self.bounded_expr(children.expect(Rule::expr)?)?;
        let actions = children.rest().map(|action| self.action(action)).collect::<Result<_, _>>()?;
        Ok(RuleItem { name, description, condition, actions })
    }

    fn action(&self, pair: Pair<'_, Rule>) -> Result<Spanned<Action>, Diagnostic> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut children = self.children(pair, rule)?;
        let action = match rule {
            Rule::assign => Action::Assign(self.name(children.expect(Rule::name)?)?.node),
            Rule::suppress => Action::Suppress(self.name(children.expect(Rule::name)?)?.node),
            Rule::suppress_all => Action::SuppressAll(self.stream_kinds(children.expect(Rule::stream_kinds)?)?),
            _ => return Err(internal(span, "action")),
        };
        children.finish()?;
        Ok(Spanned::new(action, span))
    }

    fn requirement(&self, pair: Pair<'_, Rule>) -> Result<Requirement, Diagnostic> {
        let mut children = self.children(pair, Rule::require_decl)?;
        let name = self.name(children.expect(Rule::name)?)?;
        let description = match children.optional(Rule::string_lit) {
            Some(text) => Some(self.string(text)?.node),
            None => None,
        };
        let condition = self.bounded_expr(children.expect(Rule::expr)?)?;
        let streams = children.rest().map(|target| self.required(target)).collect::<Result<_, _>>()?;
        Ok(Requirement { name, description, condition, streams })
    }

    /// `sms` or `solicitations` after `for`.
    fn required(&self, pair: Pair<'_, Rule>) -> Result<Spanned<Required>, Diagnostic> {
        let span = self.span(&pair);
        let required = match pair.as_rule() {
            Rule::stream_kinds => Required::Kind(self.stream_kinds(pair)?),
            Rule::required_stream => {
                let mut children = self.children(pair, Rule::required_stream)?;
                let name = self.name(children.expect(Rule::name)?)?;
                children.finish()?;
                Required::Stream(name.node)
            }
            _ => return Err(internal(span, "stream")),
        };
        Ok(Spanned::new(required, span))
    }

    fn holdout(&self, pair: Pair<'_, Rule>) -> Result<Holdout, Diagnostic> {
        let mut children = self.children(pair, Rule::holdout_decl)?;
        let name = self.name(children.expect(Rule::name)?)?;
        let description = match children.optional(Rule::string_lit) {
            Some(text) => Some(self.string(text)?.node),
            None => None,
        };
        let share = self.percent(children.expect(Rule::percent)?);
        let actions = children.rest().map(|action| self.action(action)).collect::<Result<_, _>>()?;
        Ok(Holdout { name, description, share, actions })
    }

    /// `5%`, `0.5%`, `12.25%`: hundredths of a percent; `None` with more
    /// than two decimals or beyond `u32` (checking says why).
    fn percent(&self, pair: Pair<'_, Rule>) -> Spanned<Option<u32>> {
        let span = self.span(&pair);
        let text = pair.as_str().trim_end_matches('%').replace('_', "");
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let hundredths = if fraction.len() > 2 {
            None
        } else {
            let fraction = format!("{fraction:0<2}");
            whole
                .parse::<u32>()
                .ok()
                .and_then(|w| w.checked_mul(100))
                .and_then(|w| fraction.parse::<u32>().ok().and_then(|f| w.checked_add(f)))
        };
        Spanned::new(hundredths, span)
    }

    fn cap(&self, pair: Pair<'_, Rule>) -> Result<Cap, Diagnostic> {
        let mut children = self.children(pair, Rule::cap_decl)?;
        let number = children.expect(Rule::int_lit)?;
        let span = self.span(&number);
        let most = number.as_str().replace('_', "").parse::<i64>().unwrap_or(i64::MAX);
        let kind_pair = children.expect(Rule::stream_kind)?;
        let kind = match kind_pair.as_str() {
            "solicitation" => StreamKind::Solicitation,
            "issue" => StreamKind::Issue,
            _ => return Err(internal(self.span(&kind_pair), "stream kind")),
        };
        children.finish()?;
        Ok(Cap { most: Spanned::new(most, span), kind })
    }

    /// A top-level expression, refused when it holds more than
    /// [`super::grammar::MAX_OPERATORS`] operators.
    fn bounded_expr(&self, pair: Pair<'_, Rule>) -> Result<crate::syntax::ast::Expr, Diagnostic> {
        let operators = pair.clone().into_inner().flatten().filter(|p| is_operator(p.as_rule())).count();
        if operators > super::grammar::MAX_OPERATORS {
            let span = self.span(&pair);
            return Err(Diagnostic::new(
                Code::TooLarge,
                Span { end: span.start, ..span },
                format!(
                    "expression has {operators} operators, more than the limit of {}",
                    super::grammar::MAX_OPERATORS
                ),
            )
            .with_help("split it into named definitions, or test membership with `in [...]`"));
        }
        self.expr(pair)
    }

    pub(super) fn name(&self, pair: Pair<'_, Rule>) -> Result<Name, Diagnostic> {
        let span = self.span(&pair);
        if pair.as_rule() != Rule::name {
            return Err(internal(span, "name"));
        }
        Ok(Spanned::new(pair.as_str().to_string(), span))
    }

    pub(super) fn string(&self, pair: Pair<'_, Rule>) -> Result<Spanned<String>, Diagnostic> {
        let span = self.span(&pair);
        let mut children = self.children(pair, Rule::string_lit)?;
        let body = children.expect(Rule::string_body)?;
        children.finish()?;
        let mut text = String::with_capacity(body.as_str().len());
        let mut chars = body.as_str().chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                text.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => text.push('\n'),
                Some('t') => text.push('\t'),
                Some(other) => text.push(other),
                None => {}
            }
        }
        Ok(Spanned::new(text, span))
    }
}
