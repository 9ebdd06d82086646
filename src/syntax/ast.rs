//! The syntax tree of one rule file, as written: names are still names and
//! nothing is typed. Produced by [`crate::syntax`], consumed by [`crate::check`].

use crate::text::source::Span;
use crate::value::Date;

/// A node with its place in the source. The span is left out of equality so
/// that trees parsed from differently laid-out texts compare equal.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    /// The node.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps a node.
    pub fn new(node: T, span: Span) -> Spanned<T> {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

/// A name as written: a field, stream, rule or definition name.
pub type Name = Spanned<String>;

/// One parsed file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// The `narval N` line, if present.
    pub version: Option<Spanned<u32>>,
    /// Items in source order (their order carries no meaning, except the
    /// order of stream declarations, which is priority).
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `import "schema.narval"`
    Import(Spanned<String>),
    /// `schema { ... }`
    Schema(Vec<FieldDecl>),
    /// `solicitation streams a, b`
    Streams(StreamDecls),
    /// `total = sum(donations.amount)`
    Definition(Definition),
    /// `over_cap: total >= cap -> mobilisation_email, no fundraising_email`
    Rule(Rule),
    /// `profile supporter = { age: 40, ... }`: a profile tests start from.
    Profile(ProfileDecl),
    /// `test "a volunteer gets no door knock" { given ..., expect ... }`
    Test(Test),
    /// `require sms_consent: consent.sms for sms`
    Require(Requirement),
    /// `holdout lift_2012: 5% -> no solicitations`
    Holdout(Holdout),
    /// `at most 3 solicitation streams`
    Cap(Cap),
    /// `policy "policies/gdpr.narval"`: the rule set is under the policies
    /// declared in that file.
    PolicyUse(Spanned<String>),
    /// `policy gdpr "..." { read health only if consent.health }`: a
    /// data-protection policy (only in a policy file).
    Policy(Policy),
}

/// `require NAME "description": CONDITION for STREAM, ...`: the streams are
/// suppressed unless the condition is true.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    /// Unique name, shared with rules and holdouts.
    pub name: Name,
    /// Optional description for people.
    pub description: Option<String>,
    /// What the streams need.
    pub condition: Expr,
    /// The streams that need it, as written.
    pub streams: Vec<Spanned<Required>>,
}

/// A stream a requirement names after `for`.
#[derive(Clone, Debug, PartialEq)]
pub enum Required {
    /// `sms`
    Stream(String),
    /// `solicitations` or `issues`: every stream of a kind.
    Kind(StreamKind),
}

/// `holdout NAME "description": 5% -> no solicitations`: the profiles whose
/// `bucket(id, "NAME")` is below the share get the suppressions.
#[derive(Clone, Debug, PartialEq)]
pub struct Holdout {
    /// Unique name, shared with rules and requirements; also the salt.
    pub name: Name,
    /// Optional description for people.
    pub description: Option<String>,
    /// The share held out, in hundredths of a percent (`5%` is 500), as
    /// written; `None` when the number is not a share.
    pub share: Spanned<Option<u32>>,
    /// The suppressions (`no STREAM`, `no solicitations`).
    pub actions: Vec<Spanned<Action>>,
}

/// `at most 3 solicitation streams`
#[derive(Clone, Debug, PartialEq)]
pub struct Cap {
    /// How many streams of the kind a profile may keep.
    pub most: Spanned<i64>,
    /// The kind capped.
    pub kind: StreamKind,
}

/// `policy NAME "description" { CLAUSES }`
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Its name, unique among the policies in effect.
    pub name: Name,
    /// Optional description for people.
    pub description: Option<String>,
    /// Its clauses, in the order written.
    pub clauses: Vec<Spanned<PolicyClause>>,
}

/// A field path as written: `scores.support`.
pub type Path = Vec<Name>;

/// One clause of a policy.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyClause {
    /// `only read polling_place, engagement`: the rule set may read these
    /// fields (and the subfields of a record) and nothing else.
    OnlyRead(Vec<Path>),
    /// `read health, sex_life only if consent.health`: fields of these
    /// categories are read only under the consent field.
    ReadOnlyIf {
        /// The categories.
        categories: Vec<Name>,
        /// The consent field.
        consent: Path,
    },
    /// `never read biometric`: fields of these categories are never read.
    NeverRead(Vec<Name>),
}

/// A field of the schema or of a nested record.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// Field name.
    pub name: Name,
    /// Whether the field may be missing or null.
    pub optional: bool,
    /// Its type.
    pub ty: Spanned<TypeExpr>,
    /// `in cents` after a `money` type (or `list of money`): where it is
    /// written (left out of equality, as every span), when the JSON holds
    /// whole cents rather than dollars.
    pub in_cents: Option<Spanned<()>>,
    /// Category tags for data-protection policies: `tagged health`.
    pub tags: Vec<Name>,
}

/// A type as written in the schema.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// `bool`, `int`, ...
    Scalar(ScalarType),
    /// `one of dem, rep`
    Enum(Vec<Name>),
    /// `list of T`
    List(Box<Spanned<TypeExpr>>),
    /// `{ a: int, b: string }`
    Record(Vec<FieldDecl>),
}

/// The scalar types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `true` or `false`.
    Bool,
    /// 64-bit signed integer.
    Int,
    /// 64-bit floating point.
    Number,
    /// Exact amount in cents.
    Money,
    /// UTF-8 text.
    String,
    /// Calendar date.
    Date,
}

impl ScalarType {
    /// The keyword for the type.
    pub fn keyword(self) -> &'static str {
        match self {
            ScalarType::Bool => "bool",
            ScalarType::Int => "int",
            ScalarType::Number => "number",
            ScalarType::Money => "money",
            ScalarType::String => "string",
            ScalarType::Date => "date",
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

/// One stream declaration line.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamDecls {
    /// The kind of every stream on the line.
    pub kind: StreamKind,
    /// The streams, in priority order.
    pub streams: Vec<StreamDecl>,
}

/// One declared stream.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamDecl {
    /// Its name.
    pub name: Name,
    /// Optional description for people.
    pub description: Option<String>,
}

/// `name = expr`: a constant when the expression reads no profile data.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// Its name.
    pub name: Name,
    /// Its value.
    pub value: Expr,
}

/// `name "description": condition -> actions`
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Unique name.
    pub name: Name,
    /// Optional description for people.
    pub description: Option<String>,
    /// When it fires.
    pub condition: Expr,
    /// What it does.
    pub actions: Vec<Spanned<Action>>,
}

/// What a rule does when it fires.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `door_knock`
    Assign(String),
    /// `no door_knock`
    Suppress(String),
    /// `no solicitations` or `no issues`
    SuppressAll(StreamKind),
}

/// `profile NAME = VALUE`
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileDecl {
    /// Its name.
    pub name: Name,
    /// The profile.
    pub value: Spanned<ProfileValue>,
}

/// A profile written in a rule file.
#[derive(Clone, Debug, PartialEq)]
pub enum ProfileValue {
    /// `{ age: 40, scores: { support: 55.0 } }`
    Record(Vec<Entry>),
    /// `supporter` or `supporter with { volunteer: true }`: a declared
    /// profile, with some fields set to other values.
    Extend {
        /// The profile started from.
        base: Name,
        /// Fields set on top of it.
        with: Option<Vec<Entry>>,
    },
}

/// `scores.support: 55.0`: a field (or a path into nested records) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The field path.
    pub path: Vec<Name>,
    /// Its value.
    pub value: Spanned<Value>,
}

/// A value in a written profile.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `{ ... }`
    Record(Vec<Entry>),
    /// `[ ... ]`
    List(Vec<Spanned<Value>>),
    /// `missing`: the field is absent.
    Missing,
    /// A literal; `-` already applied to negative numbers.
    Literal(Literal),
}

/// `test "NAME" { CLAUSES }`
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// The name, unique in a rule set.
    pub name: Spanned<String>,
    /// Its clauses, in the order written.
    pub clauses: Vec<Spanned<TestClause>>,
}

/// One clause of a test.
#[derive(Clone, Debug, PartialEq)]
pub enum TestClause {
    /// `given supporter with { ... }` or `given "profiles/maxed.json"`.
    Given(Given),
    /// `today 2012-10-01`
    Today(Date),
    /// `expect door_knock, no flyer, issues = [jobs]`
    Expect(Vec<Spanned<Expectation>>),
}

/// The profile a test evaluates.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    /// A profile written in the file.
    Profile(Spanned<ProfileValue>),
    /// A JSON file, relative to the rule file.
    File(Spanned<String>),
}

/// What a test expects of the assignment.
#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    /// `door_knock`: assigned.
    Assigned(String),
    /// `no door_knock`: not assigned.
    NotAssigned(String),
    /// `no issues`: no stream of the kind assigned.
    NoneOf(StreamKind),
    /// `solicitations = [a, b]`: exactly these streams of the kind.
    Exactly(StreamKind, Vec<Name>),
}

/// An expression with its span.
pub type Expr = Spanned<ExprKind>;

/// Expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal value.
    Literal(Literal),
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `scores.support`, `cap`, `amount` (inside `where`).
    Path(Vec<Name>),
    /// The evaluation date.
    Today,
    /// The element of a list of scalars inside `where`.
    It,
    /// `has scores.support`
    Has(Vec<Name>),
    /// `x is missing` (`negated`: `x is not missing`).
    IsMissing { value: Box<Expr>, negated: bool },
    /// `not x`, `-x`.
    Unary(UnaryOp, Box<Expr>),
    /// `a + b`, `a and b`, `a ?? b`, ...
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `x between low and high` (inclusive).
    Between { value: Box<Expr>, low: Box<Expr>, high: Box<Expr> },
    /// `x in list`, `x not in list`.
    In { value: Box<Expr>, list: Box<Expr>, negated: bool },
    /// `text contains "x"`, `list contains x`, `starts_with`, `ends_with`.
    Text(TextOp, Box<Expr>, Box<Expr>),
    /// `number(total)`, `money(scores.support * 10)`: an explicit conversion.
    Convert { to: ScalarType, value: Box<Expr> },
    /// `sum(donations.amount where context == "rally")`
    Aggregate { func: Spanned<AggregateFn>, source: Vec<Name>, filter: Option<Box<Expr>> },
    /// `bucket(id, "salt")`: a stable hash of an `int` or `string` as a
    /// `number` in [0, 100), two decimals.
    Bucket { value: Box<Expr>, salt: Spanned<String> },
}

/// Literal values.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `true`, `false`
    Bool(bool),
    /// `42`
    Int(i64),
    /// `40.5`; `cents` is set when the literal is exact in cents, so it can
    /// stand for a `money` amount too.
    Decimal { value: f64, cents: Option<i64> },
    /// `$2500`, `$12.50`
    Money(i64),
    /// `"text"`
    String(String),
    /// `2012-06-01`
    Date(Date),
    /// `7 days`, `2 weeks`, in days.
    Days(i64),
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// Infix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
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
    /// `??`
    Coalesce,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }
}

/// Text and membership tests written as words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextOp {
    /// `contains`: substring of a string, or member of a list.
    Contains,
    /// `starts_with`
    StartsWith,
    /// `ends_with`
    EndsWith,
}

impl TextOp {
    /// The operator as written.
    pub fn word(self) -> &'static str {
        match self {
            TextOp::Contains => "contains",
            TextOp::StartsWith => "starts_with",
            TextOp::EndsWith => "ends_with",
        }
    }
}

/// Aggregates over lists.
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
