//! The checked rule set: every name resolved, every expression typed.
//!
//! This is the plain expression IR that [`crate::eval::compile`] turns into an
//! evaluator program, and that later back ends (SQL, impact analysis, data
//! policies) start from. It holds no pest types and no unresolved names.

use indexmap::IndexMap;

use crate::text::source::Span;
use crate::value::Date;

/// Index of a record type in [`Schema::records`]; `0` is the profile itself.
pub type RecordId = usize;
/// Index of an enum in [`Schema::enums`].
pub type EnumId = usize;
/// Index of a stream in [`CheckedRules::streams`], which is also its priority.
pub type StreamId = usize;
/// Index of a definition in [`CheckedRules::definitions`].
pub type DefId = usize;

/// A value type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `number`
    Number,
    /// `money`, exact cents
    Money,
    /// `string`
    String,
    /// `date`
    Date,
    /// A number of days: `7 days`, or `date - date`; a bare `int` compares with it.
    Days,
    /// `one of ...`
    Enum(EnumId),
    /// `list of T`
    List(Box<Type>),
    /// `{ ... }`
    Record(RecordId),
}

/// The profile schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// Record types; `records[0]` is the profile.
    pub records: Vec<RecordType>,
    /// Enum types.
    pub enums: Vec<EnumType>,
}

/// The fields of one record type, in declaration order; a field's index is
/// its slot in a decoded record.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RecordType {
    /// The fields by name; the index of a field is its slot.
    pub fields: IndexMap<String, Field>,
}

/// A schema field.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Whether it may be missing or null.
    pub optional: bool,
    /// Whether its money (the amount, or every amount of its list) arrives
    /// in JSON as whole cents rather than dollars: `amount: money in cents`.
    pub cents: bool,
    /// Data-protection categories, such as `health`.
    pub tags: Vec<String>,
    /// Where it was declared.
    pub span: Span,
}

/// The members of an enum; a member's index is its decoded value.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumType {
    /// Members in declaration order.
    pub members: Vec<String>,
}

impl Schema {
    /// The profile record.
    pub fn root(&self) -> Option<&RecordType> {
        self.records.first()
    }

    /// Writes a type for people: `list of { amount: money, ... }` is shortened
    /// to `list of records`.
    pub fn describe(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::Int => "int".into(),
            Type::Number => "number".into(),
            Type::Money => "money".into(),
            Type::String => "string".into(),
            Type::Date => "date".into(),
            Type::Days => "a number of days".into(),
            Type::Enum(id) => match self.enums.get(*id) {
                Some(e) if e.members.len() <= 6 => format!("one of {}", e.members.join(", ")),
                _ => "an enum".into(),
            },
            Type::List(element) => format!("list of {}", self.describe(element)),
            Type::Record(_) => "a record".into(),
        }
    }
}

impl RecordType {
    /// A field and its slot by name.
    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields.get_full(name).map(|(slot, _, field)| (slot, field))
    }
}

/// A declared stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: StreamKind,
    /// Optional description.
    pub description: Option<String>,
    /// Where it was declared.
    pub span: Span,
}

/// A checked definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// Its name.
    pub name: String,
    /// Its value; refers only to definitions with smaller ids.
    pub value: Expr,
    /// Where it was declared.
    pub span: Span,
}

/// A checked rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Its name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Its condition, of type `bool`.
    pub condition: Expr,
    /// Streams it assigns when the condition is true.
    pub assigns: Vec<StreamId>,
    /// Streams it suppresses when the condition is true or unknown.
    pub suppresses: Vec<StreamId>,
    /// The kinds it suppresses whole (`no solicitations`, `no issues`), in
    /// the order written, each once: their streams are in `suppresses` too.
    pub suppressed_kinds: Vec<StreamKind>,
    /// Where it was declared.
    pub span: Span,
}

/// A checked stream requirement: the streams are suppressed unless the
/// condition is true (false or unknown suppresses: fail closed).
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    /// Its name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// What the streams need, of type `bool`.
    pub condition: Expr,
    /// The streams that need it.
    pub streams: Vec<StreamId>,
    /// Where it was declared.
    pub span: Span,
}

/// A checked holdout: the profiles whose `bucket(id, "NAME")` is below
/// `share` get its suppressions. The rule it stands for is in
/// [`CheckedRules::rules`] under the same name.
#[derive(Clone, Debug, PartialEq)]
pub struct Holdout {
    /// Its name, which is also the bucket's salt.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// The share held out in hundredths of a percent: `5%` is 500.
    pub share: u32,
    /// Where it was declared.
    pub span: Span,
}

/// `at most N KIND streams`: after suppressions and requirements, a profile
/// keeps its `most` highest-priority streams of `kind`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cap {
    /// The kind capped.
    pub kind: StreamKind,
    /// How many streams of the kind a profile keeps.
    pub most: usize,
    /// Where it was declared.
    pub span: Span,
}

/// The whole checked rule set.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedRules {
    /// The profile schema.
    pub schema: Schema,
    /// Streams: solicitations first, then issues, each in priority order.
    pub streams: Vec<Stream>,
    /// Definitions in dependency order.
    pub definitions: Vec<Definition>,
    /// Rules, sorted by name: their order carries no meaning.
    pub rules: Vec<Rule>,
    /// Stream requirements, sorted by name: conditions a stream always needs,
    /// enforced as suppressions no rule can override.
    pub requirements: Vec<Requirement>,
    /// Holdouts, sorted by name; each is also a rule of [`CheckedRules::rules`]
    /// of the same name (`bucket(id, "NAME") < share -> no ...`).
    pub holdouts: Vec<Holdout>,
    /// Caps by kind, at most one a kind, solicitations first.
    pub caps: Vec<Cap>,
    /// Whether any expression reads `today`.
    pub uses_today: bool,
    /// The test cases written beside the rules, in file and source order.
    pub tests: Vec<Test>,
}

/// A checked test case: a profile, an evaluation date and what must come out.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// Its name, unique in the rule set.
    pub name: String,
    /// Where its name was written.
    pub span: Span,
    /// The profile it evaluates.
    pub given: Given,
    /// The date `today` stands for, when the test sets it.
    pub today: Option<Date>,
    /// What must hold of the assignment.
    pub expectations: Vec<Expectation>,
}

/// The profile of a test.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    /// Written in the rule file; already checked against the schema, as JSON.
    Profile(serde_json::Value),
    /// A JSON file, named relative to the rule file that holds the test.
    File {
        /// The path as written.
        path: String,
        /// Where it was written (its file locates the path).
        span: Span,
    },
}

/// One expectation of a test.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// What is expected.
    pub kind: ExpectationKind,
    /// Where it was written.
    pub span: Span,
}

/// What a test expects.
#[derive(Clone, Debug, PartialEq)]
pub enum ExpectationKind {
    /// The stream is assigned.
    Assigned(StreamId),
    /// The stream is not assigned.
    NotAssigned(StreamId),
    /// Exactly these streams of a kind are assigned (`no issues`: none).
    Exactly(StreamKind, Vec<StreamId>),
}

/// A typed expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Type,
    /// Whether it can be unknown on some profile (missing data, empty `min`,
    /// division by zero, overflow).
    pub nullable: bool,
    /// Where it was written.
    pub span: Span,
}

/// A constant value, as written and typed: what every back end reads.
/// Evaluation compiles it to its own constant (`eval::constant::Scalar`),
/// which drops the distinction of days from `int` and adds an unknown
/// value for folded expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// `true`, `false`
    Bool(bool),
    /// An `int`.
    Int(i64),
    /// A `number`.
    Number(f64),
    /// `money` in cents.
    Money(i64),
    /// A `string`.
    String(String),
    /// A `date`.
    Date(Date),
    /// A number of days.
    Days(i64),
    /// An enum member by index.
    Enum(u32),
}

/// Where a field read starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// The profile.
    Profile,
    /// The element of an enclosing aggregate: 0 is the innermost.
    Element(u32),
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator with its operands swapped: `c < x` is `x > c`.
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }
}

/// Arithmetic operators; the operand types are those of the expression
/// (both operands are converted to one numeric type by the checker, except
/// `money * int`, `money / int` and the date forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// String tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextOp {
    /// Substring.
    Contains,
    /// Prefix.
    StartsWith,
    /// Suffix.
    EndsWith,
}

/// Typed expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal or folded constant.
    Const(Const),
    /// A list literal (its elements share one type).
    List(Vec<Expr>),
    /// A field read: slots from a base. An empty path with an element base is `it`.
    Field { base: Base, path: Vec<usize> },
    /// A definition's value.
    Def(DefId),
    /// The evaluation date.
    Today,
    /// Three-valued `not`.
    Not(Box<Expr>),
    /// Arithmetic negation.
    Neg(Box<Expr>),
    /// Three-valued `and`.
    And(Box<Expr>, Box<Expr>),
    /// Three-valued `or`.
    Or(Box<Expr>, Box<Expr>),
    /// Comparison of two operands of one type.
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// Arithmetic; see [`ArithOp`].
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// `int` to `number`.
    IntToNumber(Box<Expr>),
    /// `int` to `money` (whole units).
    IntToMoney(Box<Expr>),
    /// `money` to `number`: `number(total)`.
    MoneyToNumber(Box<Expr>),
    /// `number` to `money`, rounded half away from zero to the cent: `money(x)`.
    NumberToMoney(Box<Expr>),
    /// Inclusive range test.
    Between { value: Box<Expr>, low: Box<Expr>, high: Box<Expr> },
    /// Membership of a value in a list.
    In { value: Box<Expr>, list: Box<Expr> },
    /// String test.
    Text(TextOp, Box<Expr>, Box<Expr>),
    /// `x is missing`: never unknown.
    IsMissing(Box<Expr>),
    /// `a ?? b`: `a` unless it is unknown.
    Coalesce(Box<Expr>, Box<Expr>),
    /// An aggregate over a list; `projection` reads a field of each element
    /// (empty: the element itself); `filter` is evaluated with the element as
    /// `Base::Element(0)`.
    Aggregate { func: AggregateFn, list: Box<Expr>, projection: Vec<usize>, filter: Option<Box<Expr>> },
    /// `bucket(value, "salt")`: a `number` in [0, 100) with two decimals,
    /// from SHA-256 of `salt:value` (see [`crate::value::bucket`]); unknown
    /// when the value is. The value is an `int` or a `string`.
    Bucket { value: Box<Expr>, salt: String },
}

impl CheckedRules {
    /// Which fields of the profile record some rule or requirement reads,
    /// itself or through the definitions it uses, by slot; the decoder skips
    /// the others (a definition no rule uses reads nothing).
    pub fn profile_reads(&self) -> Vec<bool> {
        let mut reads = vec![false; self.schema.root().map_or(0, |r| r.fields.len())];
        let mut used = vec![false; self.definitions.len()];
        let mut pending: Vec<&Expr> =
            self.rules.iter().map(|r| &r.condition).chain(self.requirements.iter().map(|r| &r.condition)).collect();
        while let Some(expr) = pending.pop() {
            expr.walk(&mut |e| match &e.kind {
                ExprKind::Field { base: Base::Profile, path } => {
                    if let Some(read) = path.first().and_then(|&slot| reads.get_mut(slot)) {
                        *read = true;
                    }
                }
                ExprKind::Def(id) => {
                    if let (Some(seen), Some(def)) = (used.get_mut(*id), self.definitions.get(*id)) {
                        if !*seen {
                            *seen = true;
                            pending.push(&def.value);
                        }
                    }
                }
                _ => {}
            });
        }
        reads
    }
}

impl Expr {
    /// Visits this expression and every subexpression, parents first.
    pub fn walk(&self, visit: &mut impl FnMut(&Expr)) {
        visit(self);
        for child in self.children() {
            child.walk(visit);
        }
    }

    /// The direct subexpressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Const(_) | ExprKind::Field { .. } | ExprKind::Def(_) | ExprKind::Today => Vec::new(),
            ExprKind::List(items) => items.iter().collect(),
            ExprKind::Not(a)
            | ExprKind::Neg(a)
            | ExprKind::IntToNumber(a)
            | ExprKind::IntToMoney(a)
            | ExprKind::MoneyToNumber(a)
            | ExprKind::NumberToMoney(a)
            | ExprKind::IsMissing(a)
            | ExprKind::Bucket { value: a, .. } => vec![a],
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Compare(_, a, b)
            | ExprKind::Arith(_, a, b)
            | ExprKind::Text(_, a, b)
            | ExprKind::Coalesce(a, b)
            | ExprKind::In { value: a, list: b } => vec![a, b],
            ExprKind::Between { value, low, high } => vec![value, low, high],
            ExprKind::Aggregate { list, filter, .. } => {
                std::iter::once(list.as_ref()).chain(filter.as_deref()).collect()
            }
        }
    }
}

/// The two kinds of stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    /// Asks: money, time, a vote.
    Solicitation,
    /// Topics a person hears about.
    Issue,
}

impl StreamKind {
    /// The keyword for the kind.
    pub fn keyword(self) -> &'static str {
        match self {
            StreamKind::Solicitation => "solicitation",
            StreamKind::Issue => "issue",
        }
    }

    /// The plural used by `no solicitations` / `no issues`.
    pub fn plural(self) -> &'static str {
        match self {
            StreamKind::Solicitation => "solicitations",
            StreamKind::Issue => "issues",
        }
    }
}

/// An aggregate over a list, as the guide defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggregateFn {
    /// Sum; 0 for an empty list.
    Sum,
    /// Number of elements (that pass the filter).
    Count,
    /// Smallest; unknown for an empty list.
    Min,
    /// Largest; unknown for an empty list.
    Max,
    /// Mean; unknown for an empty list.
    Avg,
    /// Whether some element passes the filter.
    Any,
    /// Whether every element passes the filter.
    All,
}

impl AggregateFn {
    /// The function name as written.
    pub fn name(self) -> &'static str {
        match self {
            AggregateFn::Sum => "sum",
            AggregateFn::Count => "count",
            AggregateFn::Min => "min",
            AggregateFn::Max => "max",
            AggregateFn::Avg => "avg",
            AggregateFn::Any => "any",
            AggregateFn::All => "all",
        }
    }
}
