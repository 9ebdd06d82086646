//! The canonical layout of each item, as lines (see `lines`).
//!
//! Where a construct can be written on one line or over several, it takes
//! one line when that fits in [`MAX_WIDTH`] columns and no comment needs a
//! break. The comments that force a break are those that would otherwise
//! move to a place from which the next run would lay the item out
//! differently: formatting is idempotent because every such comment stays
//! where it forces the same break again.

use super::expr::{chain, path_text, quote, quoted, Printer};
use super::lines::{width, Kind, Lines, INDENT, MAX_WIDTH};
use super::trivia::Trivia;
use crate::syntax::ast::{
    Action, Cap, Definition, Entry, Expectation, Expr, FieldDecl, File, Given, Holdout, Item, Policy, PolicyClause,
    ProfileDecl, ProfileValue, Required, Requirement, Rule, Spanned, StreamDecls, Test, TestClause, TypeExpr, Value,
};

/// A top-level record of profile data with more entries than this is
/// written one entry a line.
const INLINE_ENTRIES: usize = 3;

/// Lays out one file.
pub(super) struct Layout<'a, 't> {
    trivia: &'a Trivia<'t>,
    exprs: Printer<'a, 't>,
    pub lines: Lines,
}

fn fits(indent: usize, text: &str) -> bool {
    indent + width(text) <= MAX_WIDTH
}

fn start(span: crate::text::source::Span) -> usize {
    span.start as usize
}

fn end(span: crate::text::source::Span) -> usize {
    span.end as usize
}

impl<'a, 't> Layout<'a, 't> {
    pub(super) fn new(trivia: &'a Trivia<'t>) -> Layout<'a, 't> {
        Layout { trivia, exprs: Printer { trivia, clarity: true, bare_not: false }, lines: Lines::default() }
    }

    pub(super) fn file(&mut self, file: &File) {
        let mut previous_end = 0;
        if let Some(version) = &file.version {
            let words = self.trivia.words(version.span.start, version.span.end);
            let number = words.last().map_or_else(|| version.node.to_string(), |w| (*w).to_string());
            self.lines.push(0, format!("narval {number}"), start(version.span), end(version.span), Kind::Element);
            previous_end = end(version.span);
        }
        for item in &file.items {
            let item_start = self.trivia.skip_trivia(previous_end);
            previous_end = self.item(item, item_start).max(item_start);
        }
    }

    /// Lays out an item that starts at `at`; returns where it ends.
    fn item(&mut self, item: &Item, at: usize) -> usize {
        match item {
            Item::Import(path) => {
                self.lines.push(0, format!("import {}", quoted(path)), at, end(path.span), Kind::Element);
                end(path.span)
            }
            Item::Schema(fields) => self.schema(fields, at),
            Item::Streams(streams) => self.streams(streams, at),
            Item::Definition(definition) => self.definition(definition),
            Item::Rule(rule) => self.rule(rule),
            Item::Profile(profile) => self.profile(profile, at),
            Item::Test(test) => self.test(test, at),
            Item::Require(requirement) => self.requirement(requirement, at),
            Item::Holdout(holdout) => self.holdout(holdout, at),
            Item::Cap(cap) => self.cap(cap, at),
            Item::PolicyUse(path) => {
                self.lines.push(0, format!("policy {}", quoted(path)), at, end(path.span), Kind::Element);
                end(path.span)
            }
            Item::Policy(policy) => self.policy(policy, at),
        }
    }

    /// `policy name "description" {`, one clause a line, `}`.
    fn policy(&mut self, policy: &Policy, at: usize) -> usize {
        let head = match &policy.description {
            Some(description) => format!("policy {} {}", policy.name.node, quote(description)),
            None => format!("policy {}", policy.name.node),
        };
        let after_head = match &policy.description {
            Some(_) => self.trivia.string_end(self.trivia.skip_trivia(end(policy.name.span))),
            None => end(policy.name.span),
        };
        let open = self.trivia.find(after_head, '{').unwrap_or(after_head);
        let last = policy.clauses.last().map_or(open + 1, |c| end(c.span));
        let close = self.trivia.find(last, '}').unwrap_or(last);
        if policy.clauses.is_empty() && !self.trivia.comment_in(open + 1, close) {
            self.lines.push(0, format!("{head} {{}}"), at, close + 1, Kind::Element);
            return close + 1;
        }
        self.lines.push(0, format!("{head} {{"), at, open + 1, Kind::Open);
        for clause in &policy.clauses {
            let names = |names: &[crate::syntax::ast::Name]| {
                names.iter().map(|n| n.node.as_str()).collect::<Vec<_>>().join(", ")
            };
            let text = match &clause.node {
                PolicyClause::OnlyRead(paths) => {
                    format!("only read {}", paths.iter().map(|p| path_text(p)).collect::<Vec<_>>().join(", "))
                }
                PolicyClause::ReadOnlyIf { categories, consent } => {
                    format!("read {} only if {}", names(categories), path_text(consent))
                }
                PolicyClause::NeverRead(categories) => format!("never read {}", names(categories)),
            };
            self.lines.push(INDENT, text, start(clause.span), end(clause.span), Kind::Element);
        }
        self.lines.push(0, "}", close, close + 1, Kind::Close);
        close + 1
    }

    // ---- schema -------------------------------------------------------------

    fn schema(&mut self, fields: &[FieldDecl], at: usize) -> usize {
        let open = self.trivia.find(at, '{').unwrap_or(at);
        let last = fields.last().map_or(open + 1, field_end);
        let close = self.trivia.find(last, '}').unwrap_or(last);
        if fields.is_empty() && !self.trivia.comment_in(open, close) {
            self.lines.push(0, "schema {}", at, close + 1, Kind::Element);
        } else {
            self.lines.push(0, "schema {", at, open + 1, Kind::Open);
            for field in fields {
                self.field(field, INDENT);
            }
            self.lines.push(0, "}", close, close + 1, Kind::Close);
        }
        close + 1
    }

    /// `name: optional type tagged a, b`, with a record type inline when it
    /// fits and holds no comment, else one field a line.
    fn field(&mut self, field: &FieldDecl, indent: usize) {
        let from = start(field.name.span);
        let to = field_end(field);
        let head = format!("{}: {}", field.name.node, if field.optional { "optional " } else { "" });
        let tags = tags_text(field);
        let inline = format!("{head}{}{tags}", type_text(&field.ty.node));
        // The record a field's type is, or holds through `list of`.
        let mut prefix = head;
        let mut ty = &field.ty;
        while let TypeExpr::List(element) = &ty.node {
            prefix.push_str("list of ");
            ty = element;
        }
        let TypeExpr::Record(fields) = &ty.node else {
            self.lines.push(indent, inline, from, to, Kind::Element);
            return;
        };
        let (open, close) = (start(ty.span), end(ty.span).saturating_sub(1));
        if fits(indent, &inline) && !self.trivia.comment_in(open + 1, close) {
            self.lines.push(indent, inline, from, to, Kind::Element);
            return;
        }
        self.lines.push(indent, format!("{prefix}{{"), from, open + 1, Kind::Open);
        for field in fields {
            self.field(field, indent + INDENT);
        }
        self.lines.push(indent, format!("}}{tags}"), close, to.max(close + 1), Kind::Close);
    }

    // ---- streams ------------------------------------------------------------

    /// `issue streams a, b` on one line when it fits; else the keywords on a
    /// line and the streams below, filled, a stream with a description on a
    /// line of its own. A comment between two streams of one filled line
    /// puts every stream on a line of its own.
    fn streams(&mut self, decls: &StreamDecls, at: usize) -> usize {
        let keyword = if decls.streams.len() == 1 { "stream" } else { "streams" };
        let head = format!("{} {keyword}", decls.kind.keyword());
        let mut pieces = Vec::new();
        for (i, s) in decls.streams.iter().enumerate() {
            let comma = if i + 1 < decls.streams.len() { "," } else { "" };
            let (text, to) = match &s.description {
                Some(description) => {
                    let to = self.trivia.string_end(self.trivia.skip_trivia(end(s.name.span)));
                    (format!("{} {}{comma}", s.name.node, quote(description)), to)
                }
                None => (format!("{}{comma}", s.name.node), end(s.name.span)),
            };
            pieces.push(Piece { text, from: start(s.name.span), to, alone: s.description.is_some() });
        }
        let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else { return at };
        let (first_start, item_end) = (first.from, last.to);
        let keywords_end = self.trivia.word_end(self.trivia.skip_trivia(self.trivia.word_end(at)));
        let gap_comment = |pair: &[Piece]| match pair {
            [left, right] => self.trivia.comment_in(left.to, right.from),
            _ => false,
        };
        let one_line = format!("{head} {}", pieces.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" "));
        let described = pieces.iter().any(|p| p.alone);
        if fits(0, &one_line)
            && (!described || pieces.len() == 1)
            && !pieces.windows(2).any(gap_comment)
            && !self.ends_head(at, keywords_end, first_start)
        {
            self.lines.push(0, one_line, at, item_end, Kind::Element);
            return item_end;
        }
        self.lines.push(0, head, at, keywords_end, Kind::Element);
        let mut lines = fill(&pieces);
        if lines.iter().any(|line| line.windows(2).any(gap_comment)) {
            lines = pieces.chunks(1).collect();
        }
        for line in lines {
            let (Some(first), Some(last)) = (line.first(), line.last()) else { continue };
            let text = line.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ");
            self.lines.push(INDENT, text, first.from, last.to, Kind::Continuation);
        }
        item_end
    }

    // ---- definitions and rules ----------------------------------------------

    /// `name = value`; when that does not fit, `name =` and the value below.
    fn definition(&mut self, definition: &Definition) -> usize {
        let from = start(definition.name.span);
        let value = &definition.value;
        let to = end(value.span);
        let head = format!("{} =", definition.name.node);
        let one_line = format!("{head} {}", self.exprs.expr(value));
        let gaps = self.gap_comments(value);
        let equals = self.trivia.find(end(definition.name.span), '=').map_or(from + 1, |at| at + 1);
        if fits(0, &one_line) && !gaps && !self.ends_head(from, equals, start(value.span)) {
            self.lines.push(0, one_line, from, to, Kind::Element);
        } else {
            self.lines.push(0, head, from, equals, Kind::Element);
            self.condition(value, INDENT, gaps);
        }
        to
    }

    /// `name "description": condition -> actions` on one line when it fits;
    /// else the head on a line and `condition -> actions` below it; else
    /// the condition (broken before its top-level `and` or `or` when still
    /// too long) and `-> actions` on a line of its own.
    ///
    /// Comments that stay where they are force the longer layouts: one at
    /// the end of the head line, one between two operands of the top-level
    /// `and` or `or` (which breaks the condition there) and one before the
    /// arrow. Others, inside an operand or among the actions, go to the end
    /// of their line or before it.
    fn rule(&mut self, rule: &Rule) -> usize {
        let (Some(first), Some(last)) = (rule.actions.first(), rule.actions.last()) else {
            return end(rule.condition.span);
        };
        let head = match &rule.description {
            Some(description) => format!("{} {}:", rule.name.node, quote(description)),
            None => format!("{}:", rule.name.node),
        };
        let actions = rule.actions.iter().map(|a| action_text(&a.node)).collect::<Vec<_>>().join(", ");
        let tail = (format!("-> {actions}"), start(first.span), end(last.span));
        self.headed(start(rule.name.span), end(rule.name.span), head, &rule.condition, tail)
    }

    /// A rule or requirement: `HEAD: CONDITION TAIL`, where the tail is
    /// `-> actions` or `for streams` and starts at `tail.1`.
    fn headed(
        &mut self,
        from: usize,
        name_end: usize,
        head: String,
        condition: &Expr,
        tail: (String, usize, usize),
    ) -> usize {
        let (tail, tail_from, to) = tail;
        let text = self.exprs.expr(condition);
        let body = format!("{text} {tail}");
        let gaps = self.gap_comments(condition);
        let colon = self.trivia.find(name_end, ':').map_or(from + 1, |at| at + 1);
        let after_head = self.ends_head(from, colon, start(condition.span));
        // A comment before the arrow keeps the arrow on a line of its own.
        let arrow_alone = gaps || self.trivia.comment_in(end(condition.span), tail_from);
        if !arrow_alone && !after_head && fits(0, &format!("{head} {body}")) {
            self.lines.push(0, format!("{head} {body}"), from, to, Kind::Element);
        } else if !arrow_alone && fits(INDENT, &body) {
            self.lines.push(0, head, from, colon, Kind::Element);
            self.lines.push(INDENT, body, start(condition.span), to, Kind::Continuation);
        } else {
            self.lines.push(0, head, from, colon, Kind::Element);
            self.condition(condition, INDENT, gaps);
            self.lines.push(INDENT, tail, tail_from, to, Kind::Continuation);
        }
        to
    }

    // ---- guardrails -----------------------------------------------------------

    /// `require NAME "description": CONDITION for STREAMS`, laid out as a rule.
    fn requirement(&mut self, requirement: &Requirement, at: usize) -> usize {
        let (Some(first), Some(last)) = (requirement.streams.first(), requirement.streams.last()) else {
            return end(requirement.condition.span);
        };
        let head = match &requirement.description {
            Some(description) => format!("require {} {}:", requirement.name.node, quote(description)),
            None => format!("require {}:", requirement.name.node),
        };
        let streams: Vec<String> = requirement
            .streams
            .iter()
            .map(|s| match &s.node {
                Required::Stream(name) => name.clone(),
                Required::Kind(kind) => kind.plural().to_string(),
            })
            .collect();
        // `for` is found before the first stream, after the condition.
        let keyword = self.trivia.skip_trivia(end(requirement.condition.span));
        let tail_from = if keyword < start(first.span) { keyword } else { start(first.span) };
        let tail = (format!("for {}", streams.join(", ")), tail_from, end(last.span));
        self.headed(at, end(requirement.name.span), head, &requirement.condition, tail)
    }

    /// `holdout NAME "description": 5% -> no solicitations` on one line
    /// when it fits, else the head and the share below.
    fn holdout(&mut self, holdout: &Holdout, at: usize) -> usize {
        let to = holdout.actions.last().map_or(end(holdout.share.span), |a| end(a.span));
        let head = match &holdout.description {
            Some(description) => format!("holdout {} {}:", holdout.name.node, quote(description)),
            None => format!("holdout {}:", holdout.name.node),
        };
        let share = self.trivia.words(holdout.share.span.start, holdout.share.span.end).concat();
        let actions = holdout.actions.iter().map(|a| action_text(&a.node)).collect::<Vec<_>>().join(", ");
        let body = format!("{share} -> {actions}");
        let colon = self.trivia.find(end(holdout.name.span), ':').map_or(at + 1, |c| c + 1);
        if fits(0, &format!("{head} {body}")) && !self.ends_head(at, colon, start(holdout.share.span)) {
            self.lines.push(0, format!("{head} {body}"), at, to, Kind::Element);
        } else {
            self.lines.push(0, head, at, colon, Kind::Element);
            self.lines.push(INDENT, body, start(holdout.share.span), to, Kind::Continuation);
        }
        to
    }

    /// `at most 3 solicitation streams`, the number as written.
    fn cap(&mut self, cap: &Cap, at: usize) -> usize {
        let number = self.trivia.words(cap.most.span.start, cap.most.span.end).concat();
        let after = self.trivia.word_end(self.trivia.skip_trivia(end(cap.most.span)));
        let to = self.trivia.word_end(self.trivia.skip_trivia(after));
        let keyword = if number == "1" { "stream" } else { "streams" };
        self.lines.push(0, format!("at most {number} {} {keyword}", cap.kind.keyword()), at, to, Kind::Element);
        to
    }

    /// A condition or value on its own line, broken before each top-level
    /// `and` or `or` when it does not fit or `broken` asks for it.
    fn condition(&mut self, expr: &Expr, indent: usize, broken: bool) {
        let text = self.exprs.expr(expr);
        let chain = chain(expr).filter(|_| broken || !fits(indent, &text));
        let Some((op, operands)) = chain else {
            self.lines.push(indent, text, start(expr.span), end(expr.span), Kind::Continuation);
            return;
        };
        for (i, operand) in operands.iter().enumerate() {
            let printed = self.exprs.operand(op, operand, i == 0);
            let line = if i == 0 { printed } else { format!("{} {printed}", op.symbol()) };
            self.lines.push(indent, line, start(operand.span), end(operand.span), Kind::Continuation);
        }
    }

    /// Whether, with a head line printed from `from..head_end` (`name:`,
    /// `name =`) and the body starting at `body`, a comment would end the
    /// head line. That comment keeps the head on a line of its own; other
    /// comments of the head go before the item.
    fn ends_head(&self, from: usize, head_end: usize, body: usize) -> bool {
        let head = self.trivia.comments_in(from, body).filter(|c| c.start < head_end || !c.own_line);
        head.last().is_some_and(|c| !c.own_line)
    }

    /// Whether a comment sits between two operands of the expression's
    /// top-level `and` or `or` chain; it keeps the chain broken there.
    fn gap_comments(&self, expr: &Expr) -> bool {
        let Some((_, operands)) = chain(expr) else { return false };
        operands.windows(2).any(|pair| match pair {
            [left, right] => self.trivia.comment_in(end(left.span), start(right.span)),
            _ => false,
        })
    }

    // ---- profiles and tests -------------------------------------------------

    fn profile(&mut self, profile: &ProfileDecl, at: usize) -> usize {
        let prefix = format!("profile {} = ", profile.name.node);
        self.profile_value(&prefix, &profile.value, 0, at);
        end(profile.value.span)
    }

    /// `prefix` then a profile: `{ ... }`, `base` or `base with { ... }`.
    fn profile_value(&mut self, prefix: &str, value: &Spanned<ProfileValue>, indent: usize, from: usize) {
        let to = end(value.span);
        match &value.node {
            ProfileValue::Record(entries) => {
                let around = Around { indent, prefix, suffix: "", from };
                self.record(&around, entries, (start(value.span), to.saturating_sub(1)), true);
            }
            ProfileValue::Extend { base, with: None } => {
                self.lines.push(indent, format!("{prefix}{}", base.node), from, to, Kind::Element);
            }
            ProfileValue::Extend { base, with: Some(entries) } => {
                let prefix = format!("{prefix}{} with ", base.node);
                let open = self.trivia.find(end(base.span), '{').unwrap_or(end(base.span));
                let around = Around { indent, prefix: &prefix, suffix: "", from };
                self.record(&around, entries, (open, to.saturating_sub(1)), true);
            }
        }
    }

    /// A record of profile data between the braces at `open` and `close`:
    /// inline when it fits, holds no comment and (at the top, `top`) has at
    /// most three entries; else one entry a line.
    fn record(&mut self, around: &Around<'_>, entries: &[Entry], (open, close): (usize, usize), top: bool) {
        let Around { indent, prefix, suffix, from } = *around;
        let inline = format!("{prefix}{}{suffix}", self.record_text(entries));
        let crowded = top && entries.len() > INLINE_ENTRIES;
        if !crowded && fits(indent, &inline) && !self.trivia.comment_in(open + 1, close) {
            self.lines.push(indent, inline, from, close + 1, Kind::Element);
            return;
        }
        self.lines.push(indent, format!("{prefix}{{"), from, open + 1, Kind::Open);
        for entry in entries {
            let key = format!("{}: ", path_text(&entry.path));
            let from = entry.path.first().map_or(start(entry.value.span), |name| start(name.span));
            self.value(&Around { indent: indent + INDENT, prefix: &key, suffix: "", from }, &entry.value);
        }
        self.lines.push(indent, format!("}}{suffix}"), close, close + 1, Kind::Close);
    }

    /// A value with its surroundings, over several lines when it is a record
    /// or list that does not fit on one or holds a comment.
    fn value(&mut self, around: &Around<'_>, value: &Spanned<Value>) {
        let Around { indent, prefix, suffix, from } = *around;
        let (open, to) = (start(value.span), end(value.span));
        let close = to.saturating_sub(1);
        match &value.node {
            Value::Record(entries) => self.record(around, entries, (open, close), false),
            Value::List(items) => {
                let inline = format!("{prefix}{}{suffix}", self.value_text(value));
                if fits(indent, &inline) && !self.trivia.comment_in(open + 1, close) {
                    self.lines.push(indent, inline, from, to, Kind::Element);
                    return;
                }
                self.lines.push(indent, format!("{prefix}["), from, open + 1, Kind::Open);
                for item in items {
                    let element = Around { indent: indent + INDENT, prefix: "", suffix: ",", from: start(item.span) };
                    self.value(&element, item);
                }
                self.lines.push(indent, format!("]{suffix}"), close, to, Kind::Close);
            }
            _ => {
                let text = format!("{prefix}{}{suffix}", self.value_text(value));
                self.lines.push(indent, text, from, to, Kind::Element);
            }
        }
    }

    fn record_text(&self, entries: &[Entry]) -> String {
        if entries.is_empty() {
            return String::from("{}");
        }
        let entries: Vec<String> =
            entries.iter().map(|e| format!("{}: {}", path_text(&e.path), self.value_text(&e.value))).collect();
        format!("{{ {} }}", entries.join(", "))
    }

    fn value_text(&self, value: &Spanned<Value>) -> String {
        match &value.node {
            Value::Record(entries) => self.record_text(entries),
            Value::List(items) => {
                format!("[{}]", items.iter().map(|v| self.value_text(v)).collect::<Vec<_>>().join(", "))
            }
            Value::Missing => String::from("missing"),
            Value::Literal(literal) => self.exprs.literal(literal, value.span),
        }
    }

    /// `test "name" {`, one clause a line, `}`.
    fn test(&mut self, test: &Test, at: usize) -> usize {
        let head = format!("test {}", quoted(&test.name));
        let open = self.trivia.find(end(test.name.span), '{').unwrap_or(end(test.name.span));
        let last = test.clauses.last().map_or(open + 1, |c| end(c.span));
        let close = self.trivia.find(last, '}').unwrap_or(last);
        if test.clauses.is_empty() && !self.trivia.comment_in(open + 1, close) {
            self.lines.push(0, format!("{head} {{}}"), at, close + 1, Kind::Element);
            return close + 1;
        }
        self.lines.push(0, format!("{head} {{"), at, open + 1, Kind::Open);
        for clause in &test.clauses {
            let (from, to) = (start(clause.span), end(clause.span));
            match &clause.node {
                TestClause::Given(Given::File(path)) => {
                    self.lines.push(INDENT, format!("given {}", quoted(path)), from, to, Kind::Element);
                }
                TestClause::Given(Given::Profile(profile)) => self.profile_value("given ", profile, INDENT, from),
                TestClause::Today(date) => {
                    let words = self.trivia.words(clause.span.start, clause.span.end);
                    let date = words.last().map_or_else(|| date.to_string(), |w| (*w).to_string());
                    self.lines.push(INDENT, format!("today {date}"), from, to, Kind::Element);
                }
                TestClause::Expect(expectations) => {
                    let texts: Vec<String> = expectations.iter().map(|e| expectation_text(&e.node)).collect();
                    self.lines.push(INDENT, format!("expect {}", texts.join(", ")), from, to, Kind::Element);
                }
            }
        }
        self.lines.push(0, "}", close, close + 1, Kind::Close);
        close + 1
    }
}

/// What surrounds a value being laid out: its indentation, the text before
/// it on its first line (`key: `), the text after it on its last (`,`) and
/// where in the source that first line starts.
#[derive(Clone, Copy)]
struct Around<'p> {
    indent: usize,
    prefix: &'p str,
    suffix: &'p str,
    from: usize,
}

/// One stream of a declaration, as printed (with its comma).
struct Piece {
    text: String,
    from: usize,
    to: usize,
    /// Whether it goes on a line of its own: it has a description.
    alone: bool,
}

/// Pieces filled into lines of at most [`MAX_WIDTH`] columns, indented one
/// level; a piece that is `alone` takes a line of its own.
fn fill(pieces: &[Piece]) -> Vec<&[Piece]> {
    let mut lines = Vec::new();
    let (mut from, mut used) = (0, 0);
    for (i, piece) in pieces.iter().enumerate() {
        let wanted = used + usize::from(used > 0) + width(&piece.text);
        let starts_line = piece.alone || pieces.get(i.wrapping_sub(1)).is_some_and(|p| p.alone);
        if i > from && (starts_line || INDENT + wanted > MAX_WIDTH) {
            lines.push(pieces.get(from..i).unwrap_or(&[]));
            from = i;
            used = width(&piece.text);
        } else {
            used = wanted;
        }
    }
    lines.push(pieces.get(from..).unwrap_or(&[]));
    lines
}

/// Where a field's declaration ends: after its type or its last tag.
fn field_end(field: &FieldDecl) -> usize {
    let ty_end = field.in_cents.as_ref().map_or(end(field.ty.span), |unit| end(unit.span)).max(end(field.ty.span));
    field.tags.last().map_or(ty_end, |tag| end(tag.span).max(ty_end))
}

/// ` in cents`, then ` tagged a, b`, or nothing.
fn tags_text(field: &FieldDecl) -> String {
    let unit = if field.in_cents.is_some() { " in cents" } else { "" };
    if field.tags.is_empty() {
        return unit.to_string();
    }
    let tags: Vec<&str> = field.tags.iter().map(|t| t.node.as_str()).collect();
    format!("{unit} tagged {}", tags.join(", "))
}

/// A type on one line.
fn type_text(ty: &TypeExpr) -> String {
    match ty {
        TypeExpr::Scalar(scalar) => scalar.keyword().to_string(),
        TypeExpr::Enum(members) => {
            let members: Vec<&str> = members.iter().map(|m| m.node.as_str()).collect();
            format!("one of {}", members.join(", "))
        }
        TypeExpr::List(element) => format!("list of {}", type_text(&element.node)),
        TypeExpr::Record(fields) if fields.is_empty() => String::from("{}"),
        TypeExpr::Record(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| {
                    let optional = if f.optional { "optional " } else { "" };
                    format!("{}: {optional}{}{}", f.name.node, type_text(&f.ty.node), tags_text(f))
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
    }
}

fn action_text(action: &Action) -> String {
    match action {
        Action::Assign(stream) => stream.clone(),
        Action::Suppress(stream) => format!("no {stream}"),
        Action::SuppressAll(kind) => format!("no {}", kind.plural()),
    }
}

fn expectation_text(expectation: &Expectation) -> String {
    match expectation {
        Expectation::Assigned(stream) => stream.clone(),
        Expectation::NotAssigned(stream) => format!("no {stream}"),
        Expectation::NoneOf(kind) => format!("no {}", kind.plural()),
        Expectation::Exactly(kind, streams) => {
            let streams: Vec<&str> = streams.iter().map(|s| s.node.as_str()).collect();
            format!("{} = [{}]", kind.plural(), streams.join(", "))
        }
    }
}
