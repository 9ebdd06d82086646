//! Checked expressions as SQL, with narval's semantics rather than SQL's.
//!
//! Truth is a number, never NULL: 0 false, 1 unknown, 2 true, so `and` is
//! `LEAST`, `or` is `GREATEST`, `not` is `2 - t`, and `any`/`all` over a
//! list are `MAX`/`MIN` (SQL's own NULL logic loses unknown in `bool_or`,
//! in filters and in `SUM`). Every other value is a SQL value whose NULL is
//! unknown, in one representation per type: `int`, money (whole cents) and
//! days as 64-bit integers, `number` as a double, a date as its number of
//! days since 1970-01-01, an enum as its member's index, a `bool` as 0 or 2.
//! What narval calls unknown (overflow, division by zero, a date outside
//! the years 1 to 9999, `min` of nothing) is NULL here, computed without
//! letting the engine raise an error.

use crate::ir::{AggregateFn, ArithOp, Base, CheckedRules, CmpOp, Const, Expr, ExprKind, Type};
use crate::sql::dialect::Dialect;
use crate::text::source::Span;
use crate::value::Date;

/// A piece of SQL and the hoisting layer it reads from (0: the table).
#[derive(Clone, Debug)]
pub(crate) struct Frag {
    pub sql: String,
    pub level: usize,
}

impl Frag {
    fn new(sql: impl Into<String>, level: usize) -> Frag {
        Frag { sql: sql.into(), level }
    }

    fn constant(sql: impl Into<String>) -> Frag {
        Frag::new(sql, 0)
    }

    /// A piece built from others: it reads from the deepest of their layers.
    fn from(sql: String, parts: &[&Frag]) -> Frag {
        Frag { sql, level: parts.iter().map(|p| p.level).max().unwrap_or(0) }
    }
}

/// Why an expression cannot be written in a dialect.
#[derive(Clone, Debug)]
pub(crate) struct Refusal {
    pub span: Span,
    pub message: String,
}

/// The largest finite double.
const MAX_DOUBLE: &str = "1.7976931348623157e308";

/// Writes the expressions of one rule set in one dialect.
pub(crate) struct Writer<'r> {
    pub rules: &'r CheckedRules,
    pub dialect: Dialect,
    pub today: Option<Date>,
    /// The alias of the table (or layer) rows are read from.
    pub row: &'static str,
    /// The element of each aggregate around the expression being written,
    /// outermost first: its alias and its type.
    elements: Vec<(String, Type)>,
    aliases: usize,
    /// Columns hoisted under the rules, by layer: layer `k` (from 1) is
    /// computed from the table and the layers below it. Definitions are
    /// hoisted, and operands written more than once.
    pub layers: Vec<Vec<(String, String)>>,
    /// By definition: its column and its layer, once written.
    definitions: Vec<Option<Frag>>,
}

impl<'r> Writer<'r> {
    pub fn new(rules: &'r CheckedRules, dialect: Dialect, today: Option<Date>) -> Writer<'r> {
        Writer {
            rules,
            dialect,
            today,
            row: "p",
            elements: Vec::new(),
            aliases: 0,
            layers: Vec::new(),
            definitions: vec![None; rules.definitions.len()],
        }
    }

    /// A writer for the same rule set and dialect with nothing written yet:
    /// for questions about expressions in another scope.
    fn shallow(&self) -> Writer<'r> {
        Writer::new(self.rules, self.dialect, self.today)
    }

    fn refuse(&self, span: Span, message: impl Into<String>) -> Refusal {
        Refusal { span, message: message.into() }
    }

    /// A column of the row, quoted.
    pub fn column(&self, name: &str) -> String {
        format!("{}.{}", self.row, self.dialect.ident(name))
    }

    /// `frag` written so that it can be used more than once without being
    /// computed (or written) again: a column of a hoisting layer when it is
    /// read from the row, itself when it is a constant or a column already.
    fn once(&mut self, frag: Frag, name: &str) -> Frag {
        let simple = frag.sql.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.\"`'-".contains(&b));
        if simple || !self.elements.is_empty() {
            return frag;
        }
        let level = frag.level + 1;
        while self.layers.len() < level {
            self.layers.push(Vec::new());
        }
        let index: usize = self.layers.iter().map(Vec::len).sum();
        let column = format!("narval_{name}_{index}");
        if let Some(layer) = self.layers.get_mut(level - 1) {
            layer.push((column.clone(), frag.sql));
        }
        Frag::new(self.column(&column), level)
    }

    /// The truth code of a condition: 0, 1 or 2, never NULL.
    pub fn truth(&mut self, e: &Expr) -> Result<Frag, Refusal> {
        let d = self.dialect;
        Ok(match &e.kind {
            ExprKind::Const(Const::Bool(b)) => Frag::constant(if *b { "2" } else { "0" }),
            ExprKind::Not(a) => {
                let a = self.truth(a)?;
                Frag::from(format!("(2 - {})", a.sql), &[&a])
            }
            ExprKind::And(..) | ExprKind::Or(..) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                let mut operands = Vec::new();
                flatten(e, is_and, &mut operands);
                let parts = operands.into_iter().map(|o| self.truth(o)).collect::<Result<Vec<_>, _>>()?;
                let sql = format!(
                    "{}({})",
                    if is_and { "LEAST" } else { "GREATEST" },
                    parts.iter().map(|p| p.sql.as_str()).collect::<Vec<_>>().join(", ")
                );
                Frag::from(sql, &parts.iter().collect::<Vec<_>>())
            }
            ExprKind::Compare(op, a, b) => {
                // An enum field equal to a member: the text compared,
                // without mapping it to its index (a text that is no
                // member rejects the row).
                if let (CmpOp::Eq | CmpOp::Ne, Some((field, member)), false) =
                    (op, enum_member(self.rules, a, b), d == Dialect::Snowflake)
                {
                    let raw = self.raw(field)?;
                    let symbol = if *op == CmpOp::Eq { "=" } else { "<>" };
                    return Ok(Frag::from(
                        self.pred(e, &format!("{} {symbol} {}", raw.sql, d.string(member))),
                        &[&raw],
                    ));
                }
                // A date field with a known date: the dates compared as
                // they are held, without counting days.
                if let Some((field, date, flipped)) = self.date_against_constant(a, b) {
                    let raw = self.raw(field)?;
                    let op = if flipped { op.flipped() } else { *op };
                    let symbol = cmp_symbol(op);
                    return Ok(Frag::from(self.pred(e, &format!("{} {symbol} DATE '{date}'", raw.sql)), &[&raw]));
                }
                let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
                let (a, b) = (self.operand(a, ordered)?, self.operand(b, ordered)?);
                let symbol = cmp_symbol(*op);
                Frag::from(self.pred(e, &format!("{} {symbol} {}", a.sql, b.sql)), &[&a, &b])
            }
            ExprKind::Between { value, low, high } => {
                let (v, lo, hi) = (self.operand(value, true)?, self.operand(low, true)?, self.operand(high, true)?);
                Frag::from(self.pred(e, &format!("{} BETWEEN {} AND {}", v.sql, lo.sql, hi.sql)), &[&v, &lo, &hi])
            }
            ExprKind::In { value, list } => self.membership(e, value, list)?,
            ExprKind::Text(op, a, b) => {
                let (a, b) = (self.value(a)?, self.value(b)?);
                Frag::from(self.pred(e, &d.text_test(*op, &a.sql, &b.sql)), &[&a, &b])
            }
            ExprKind::IsMissing(a) => {
                let a = self.raw_or_value(a)?;
                Frag::from(format!("(CASE WHEN {} IS NULL THEN 2 ELSE 0 END)", a.sql), &[&a])
            }
            ExprKind::Coalesce(a, b) => {
                let a = self.truth(a)?;
                let a = self.once(a, "t");
                let b = self.truth(b)?;
                Frag::from(format!("(CASE WHEN {a} = 1 THEN {b} ELSE {a} END)", a = a.sql, b = b.sql), &[&a, &b])
            }
            ExprKind::Def(id) => self.definition(*id, e.span)?,
            ExprKind::Aggregate { func: AggregateFn::Any | AggregateFn::All, .. } => {
                let a = self.value_of(e)?;
                if self.certain(e) {
                    a
                } else {
                    Frag::from(format!("COALESCE({}, 1)", a.sql), &[&a])
                }
            }
            ExprKind::Field { .. } => {
                let raw = self.raw(e)?;
                Frag::from(self.pred(e, &raw.sql), &[&raw])
            }
            _ => {
                let v = self.value_of(e)?;
                Frag::from(format!("COALESCE({}, 1)", v.sql), &[&v])
            }
        })
    }

    /// The truth code of a SQL predicate that stands for `e`: without the
    /// unknown case when `e` is never unknown.
    fn pred(&self, e: &Expr, predicate: &str) -> String {
        if self.certain(e) {
            self.dialect.truth_known(predicate)
        } else {
            self.dialect.truth_of(predicate)
        }
    }

    /// A comparison operand: strings for ordering by bytes where needed.
    fn operand(&mut self, e: &Expr, ordered: bool) -> Result<Frag, Refusal> {
        let v = self.value(e)?;
        Ok(if ordered && e.ty == Type::String { Frag::from(self.dialect.bytewise(v.sql.clone()), &[&v]) } else { v })
    }

    /// The value of an expression of any type: for a `bool`, 0, 2 or NULL.
    pub fn value(&mut self, e: &Expr) -> Result<Frag, Refusal> {
        if e.ty == Type::Bool {
            if let ExprKind::Field { .. } = e.kind {
                let raw = self.raw(e)?;
                return Ok(Frag::from(format!("(CASE WHEN {r} THEN 2 WHEN NOT {r} THEN 0 END)", r = raw.sql), &[&raw]));
            }
            let t = self.truth(e)?;
            return Ok(Frag::from(format!("NULLIF({}, 1)", t.sql), &[&t]));
        }
        self.value_of(e)
    }

    /// `x is missing` of a list or record reads the column as it is.
    fn raw_or_value(&mut self, e: &Expr) -> Result<Frag, Refusal> {
        match (&e.kind, &e.ty) {
            (ExprKind::Field { .. }, _) => self.raw(e),
            _ => self.value(e),
        }
    }

    fn value_of(&mut self, e: &Expr) -> Result<Frag, Refusal> {
        let d = self.dialect;
        if !matches!(e.kind, ExprKind::Const(_)) {
            if let Some(Some(c)) = self.constant_of(e) {
                return Ok(Frag::constant(self.constant(&c)));
            }
        }
        Ok(match &e.kind {
            ExprKind::Const(c) => Frag::constant(self.constant(c)),
            ExprKind::List(_) => return Err(self.refuse(e.span, "a list is written only after `in`")),
            ExprKind::Field { .. } => {
                let raw = self.raw(e)?;
                self.convert(raw, &e.ty)
            }
            ExprKind::Def(id) => self.definition(*id, e.span)?,
            ExprKind::Today => match self.today {
                Some(today) => Frag::constant(today.0.to_string()),
                None => return Err(self.refuse(e.span, "the rule set reads `today`: give the date with `--today`")),
            },
            ExprKind::Neg(a) => {
                let a = self.value(a)?;
                match e.ty {
                    Type::Number => Frag::from(format!("(-{})", a.sql), &[&a]),
                    _ => Frag::from(d.narrow(&format!("(-CAST({} AS {}))", a.sql, d.wide())), &[&a]),
                }
            }
            ExprKind::Arith(op, a, b) => self.arith(e, *op, a, b)?,
            ExprKind::IntToNumber(a) => {
                let a = self.value(a)?;
                Frag::from(format!("CAST({} AS {})", a.sql, d.double()), &[&a])
            }
            ExprKind::IntToMoney(a) => {
                let a = self.value(a)?;
                Frag::from(d.narrow(&format!("(CAST({} AS {}) * 100)", a.sql, d.wide())), &[&a])
            }
            ExprKind::MoneyToNumber(a) => {
                let a = self.value(a)?;
                Frag::from(format!("(CAST({} AS {}) / 100)", a.sql, d.double()), &[&a])
            }
            ExprKind::NumberToMoney(_) => {
                return Err(self.refuse(
                    e.span,
                    "`money(...)` of a number is not written in SQL yet: no engine rounds a double to the cent exactly as narval does",
                ))
            }
            ExprKind::Coalesce(a, b) => {
                let (a, b) = (self.value(a)?, self.value(b)?);
                Frag::from(format!("COALESCE({}, {})", a.sql, b.sql), &[&a, &b])
            }
            ExprKind::Aggregate { func, list, projection, filter } => {
                self.aggregate(e, *func, list, projection, filter.as_deref())?
            }
            ExprKind::Bucket { value, salt } => {
                let v = self.value(value)?;
                let text = match value.ty {
                    Type::String => v.sql.clone(),
                    _ => format!("CAST({} AS {})", v.sql, d.text()),
                };
                let concat = match d {
                    Dialect::BigQuery | Dialect::Spark => format!("CONCAT({}, {text})", d.string(&format!("{salt}:"))),
                    _ => format!("({} || {text})", d.string(&format!("{salt}:"))),
                };
                let hash = d.hash32(&concat);
                let hundredths = d.quotient(&format!("(CAST({hash} AS {}) * 10000)", d.wide()), "4294967296");
                Frag::from(format!("(CAST({hundredths} AS {}) / 100)", d.double()), &[&v])
            }
            // Conditions as values.
            _ => {
                let t = self.truth(e)?;
                Frag::from(format!("NULLIF({}, 1)", t.sql), &[&t])
            }
        })
    }

    /// A definition's column, hoisted the first time it is read.
    fn definition(&mut self, id: usize, span: Span) -> Result<Frag, Refusal> {
        if let Some(Some(frag)) = self.definitions.get(id) {
            return Ok(frag.clone());
        }
        let Some(def) = self.rules.definitions.get(id) else { return Err(self.refuse(span, "no such definition")) };
        // Definitions read the profile only, never an aggregate's element.
        let elements = std::mem::take(&mut self.elements);
        let written = if def.value.ty == Type::Bool { self.truth(&def.value) } else { self.value(&def.value) };
        self.elements = elements;
        let written = written?;
        let level = written.level + 1;
        while self.layers.len() < level {
            self.layers.push(Vec::new());
        }
        let column = format!("narval_def_{id}");
        if let Some(layer) = self.layers.get_mut(level - 1) {
            layer.push((column.clone(), written.sql));
        }
        let frag = Frag::new(self.column(&column), level);
        if let Some(slot) = self.definitions.get_mut(id) {
            *slot = Some(frag.clone());
        }
        Ok(frag)
    }

    /// A literal.
    fn constant(&self, c: &Const) -> String {
        let d = self.dialect;
        match c {
            Const::Bool(b) => if *b { "2" } else { "0" }.to_owned(),
            Const::Int(i) | Const::Money(i) | Const::Days(i) => integer(*i, d),
            Const::Number(n) => d.number(*n),
            Const::String(s) => d.string(s),
            Const::Date(date) => date.0.to_string(),
            Const::Enum(member) => member.to_string(),
        }
    }

    /// A field read as the table holds it: the column, then each record
    /// field on the path.
    fn raw(&mut self, e: &Expr) -> Result<Frag, Refusal> {
        let ExprKind::Field { base, path } = &e.kind else { return Err(self.refuse(e.span, "not a field")) };
        let (mut sql, mut record) = match base {
            Base::Profile => (self.row.to_owned(), Some(0)),
            Base::Element(depth) => {
                let index = self.elements.len().checked_sub(1 + *depth as usize);
                let Some((alias, ty)) = index.and_then(|i| self.elements.get(i)) else {
                    return Err(self.refuse(e.span, "an element read outside its aggregate"));
                };
                let record = if let Type::Record(r) = ty { Some(*r) } else { None };
                (alias.clone(), record)
            }
        };
        for (step, &slot) in path.iter().enumerate() {
            let Some(fields) = record.and_then(|r| self.rules.schema.records.get(r)) else {
                return Err(self.refuse(e.span, "a field of something that is not a record"));
            };
            let Some((name, field)) = fields.fields.get_index(slot) else {
                return Err(self.refuse(e.span, "no such field"));
            };
            sql = if step == 0 && *base == Base::Profile { self.column(name) } else { self.dialect.member(&sql, name) };
            record = if let Type::Record(r) = field.ty { Some(r) } else { None };
            if self.dialect == Dialect::BigQuery && field.optional && matches!(field.ty, Type::List(_)) {
                return Err(self.refuse(
                    e.span,
                    format!("BigQuery stores a missing list as an empty one, so `{name}` being missing cannot be told apart"),
                ));
            }
        }
        Ok(Frag::new(sql, 0))
    }

    /// A value as the table holds it, in this module's representation.
    fn convert(&self, raw: Frag, ty: &Type) -> Frag {
        let d = self.dialect;
        // Snowflake reads the fields of objects and the elements of arrays
        // as variants.
        let raw = match (d, ty) {
            (Dialect::Snowflake, Type::Int | Type::Money | Type::Days) => {
                Frag::from(format!("CAST({} AS BIGINT)", raw.sql), &[&raw])
            }
            (Dialect::Snowflake, Type::Number) => Frag::from(format!("CAST({} AS FLOAT)", raw.sql), &[&raw]),
            (Dialect::Snowflake, Type::String | Type::Enum(_)) => {
                Frag::from(format!("CAST({} AS VARCHAR)", raw.sql), &[&raw])
            }
            (Dialect::Snowflake, Type::Date) => Frag::from(format!("CAST({} AS DATE)", raw.sql), &[&raw]),
            (Dialect::Snowflake, Type::Bool) => Frag::from(format!("CAST({} AS BOOLEAN)", raw.sql), &[&raw]),
            _ => raw,
        };
        match ty {
            Type::Date => Frag::from(d.days(&raw.sql), &[&raw]),
            Type::Enum(id) => {
                let members = self.rules.schema.enums.get(*id).map(|e| e.members.as_slice()).unwrap_or_default();
                let arms: String = members
                    .iter()
                    .enumerate()
                    .map(|(i, member)| format!(" WHEN {} THEN {i}", d.string(member)))
                    .collect();
                Frag::from(format!("(CASE {}{arms} END)", raw.sql), &[&raw])
            }
            Type::Bool => Frag::from(format!("(CASE WHEN {r} THEN 2 WHEN NOT {r} THEN 0 END)", r = raw.sql), &[&raw]),
            _ => raw,
        }
    }

    fn arith(&mut self, e: &Expr, op: ArithOp, a: &Expr, b: &Expr) -> Result<Frag, Refusal> {
        let d = self.dialect;
        let (x, y) = (self.value(a)?, self.value(b)?);
        let symbol = match op {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        };
        Ok(match (&e.ty, &a.ty, &b.ty, op) {
            // Days between two dates: never beyond the range.
            (_, Type::Date, Type::Date, _) => Frag::from(format!("({} - {})", x.sql, y.sql), &[&x, &y]),
            // A date moved by days: unknown outside the years 1 to 9999.
            (Type::Date, _, _, _) => {
                let (lo, hi) = (date_bound(false), date_bound(true));
                let moved = format!("(CAST({} AS {w}) {symbol} CAST({} AS {w}))", x.sql, y.sql, w = d.wide());
                Frag::from(
                    format!(
                        "CAST(NULLIF(NULLIF(GREATEST(LEAST({moved}, {above}), {below}), {above}), {below}) AS {})",
                        d.bigint(),
                        above = hi + 1,
                        below = lo - 1
                    ),
                    &[&x, &y],
                )
            }
            (Type::Number, Type::Money, Type::Money, ArithOp::Div) => Frag::from(
                format!("(CAST({} AS {f}) / CAST(NULLIF({}, 0) AS {f}))", x.sql, y.sql, f = d.double()),
                &[&x, &y],
            ),
            (Type::Number, _, _, _) => self.float(op, x, y),
            // Money divided by an int: rounded half away from zero.
            (_, _, _, ArithOp::Div) => {
                let x = self.once(x, "x");
                let y = self.once(y, "y");
                let w = d.wide();
                let (xw, yw) = (format!("CAST({} AS {w})", x.sql), format!("CAST(NULLIF({}, 0) AS {w})", y.sql));
                let q = d.quotient(&format!("(ABS({xw}) * 2 + ABS({yw}))"), &format!("(ABS({yw}) * 2)"));
                Frag::from(d.narrow(&format!("(SIGN({xw}) * SIGN({yw}) * {q})")), &[&x, &y])
            }
            // int and money: exact in the wide type, unknown beyond 64 bits.
            _ => Frag::from(
                d.narrow(&format!("(CAST({} AS {w}) {symbol} CAST({} AS {w}))", x.sql, y.sql, w = d.wide())),
                &[&x, &y],
            ),
        })
    }

    /// Arithmetic on doubles: unknown when the result is not finite, and
    /// on division by zero.
    fn float(&mut self, op: ArithOp, x: Frag, y: Frag) -> Frag {
        let d = self.dialect;
        match d {
            Dialect::Postgres => {
                let x = self.once(x, "x");
                let y = self.once(y, "y");
                Frag::from(float_op(d, op, &x.sql, &y.sql), &[&x, &y])
            }
            _ => Frag::from(float_op(d, op, &x.sql, &y.sql), &[&x, &y]),
        }
    }

    /// `value in list`.
    fn membership(&mut self, e: &Expr, value: &Expr, list: &Expr) -> Result<Frag, Refusal> {
        let d = self.dialect;
        if let ExprKind::List(items) = &list.kind {
            if items.is_empty() {
                return Ok(Frag::constant("0"));
            }
            let v = self.value(value)?;
            let mut parts = vec![v.clone()];
            for item in items {
                parts.push(self.value(item)?);
            }
            let listed = parts.iter().skip(1).map(|p| p.sql.as_str()).collect::<Vec<_>>().join(", ");
            let refs: Vec<&Frag> = parts.iter().collect();
            return Ok(Frag::from(self.pred(e, &format!("{} IN ({listed})", v.sql)), &refs));
        }
        // A list from the profile: an aggregate over its elements.
        let Type::List(element) = &list.ty else { return Err(self.refuse(e.span, "`in` needs a list")) };
        let v = self.value(value)?;
        let v = self.once(v, "v");
        let l = self.raw_or_value(list)?;
        let l = self.once(l, "l");
        // A known value in a list held as it is compared: the engine's own
        // search (nothing is a member of an empty list).
        let identity = matches!(**element, Type::Int | Type::Money | Type::Number | Type::String | Type::Days);
        if identity && self.constant_of(value).is_some() {
            let search = match d {
                Dialect::DuckDb => Some(format!("list_contains({}, {})", l.sql, v.sql)),
                Dialect::Postgres => Some(format!("{} = ANY({})", v.sql, l.sql)),
                Dialect::Spark => Some(format!("array_contains({}, {})", l.sql, v.sql)),
                _ => None,
            };
            if let Some(search) = search {
                return Ok(Frag::from(
                    if self.certain(list) {
                        d.truth_known(&search)
                    } else {
                        format!("(CASE WHEN {} IS NULL THEN 1 WHEN {search} THEN 2 ELSE 0 END)", l.sql)
                    },
                    &[&v, &l],
                ));
            }
        }
        let alias = self.alias();
        let item = self.convert(Frag::constant(alias.clone()), element);
        let Some(rows) = d.unnest(&l.sql, &alias) else {
            let matching = d.size(&d.filter(&l.sql, &alias, &format!("{} = {}", item.sql, v.sql)));
            let sql = format!(
                "(CASE WHEN {l} IS NULL THEN 1 WHEN {size} = 0 THEN 0 WHEN {v} IS NULL THEN 1 WHEN {matching} > 0 THEN 2 ELSE 0 END)",
                l = l.sql,
                size = d.size(&l.sql),
                v = v.sql
            );
            return Ok(Frag::from(sql, &[&v, &l]));
        };
        let sql = format!(
            "(CASE WHEN {l} IS NULL THEN 1 ELSE (SELECT COALESCE(MAX(CASE WHEN {item} = {v} THEN 2 WHEN {v} IS NULL THEN 1 ELSE 0 END), 0) FROM {rows}) END)",
            l = l.sql,
            item = item.sql,
            v = v.sql
        );
        Ok(Frag::from(sql, &[&v, &l]))
    }

    /// The value of an expression that reads nothing from the profile, when
    /// it can be computed here as narval computes it: `Some(None)` for an
    /// unknown result, `None` when it is not such an expression.
    fn constant_of(&self, e: &Expr) -> Option<Option<Const>> {
        let int = |c: Option<Const>| match c {
            Some(Const::Int(i) | Const::Money(i) | Const::Days(i)) => Some(i),
            _ => None,
        };
        Some(match &e.kind {
            ExprKind::Const(c) => Some(c.clone()),
            ExprKind::Today => Some(Const::Date(self.today?)),
            ExprKind::Def(id) => return self.constant_of(&self.rules.definitions.get(*id)?.value),
            ExprKind::IntToMoney(a) => int(self.constant_of(a)?).and_then(|i| i.checked_mul(100)).map(Const::Money),
            ExprKind::IntToNumber(a) => int(self.constant_of(a)?).map(|i| Const::Number(i as f64)),
            ExprKind::MoneyToNumber(a) => int(self.constant_of(a)?).map(|c| Const::Number(c as f64 / 100.0)),
            ExprKind::Neg(a) => match self.constant_of(a)? {
                Some(Const::Int(i)) => i.checked_neg().map(Const::Int),
                Some(Const::Money(i)) => i.checked_neg().map(Const::Money),
                Some(Const::Number(n)) => Some(Const::Number(-n)),
                _ => None,
            },
            ExprKind::Arith(op @ (ArithOp::Add | ArithOp::Sub | ArithOp::Mul), a, b) => {
                let (x, y) = (self.constant_of(a)?, self.constant_of(b)?);
                match (&e.ty, x, y) {
                    (Type::Date, Some(Const::Date(date)), y) => {
                        let days = int(y).and_then(|n| if *op == ArithOp::Sub { n.checked_neg() } else { Some(n) });
                        days.and_then(|n| date.add_days(n)).map(Const::Date)
                    }
                    (_, Some(Const::Date(x)), Some(Const::Date(y))) => {
                        Some(Const::Int(i64::from(x.0) - i64::from(y.0)))
                    }
                    (Type::Int | Type::Money | Type::Days, x, y) => {
                        let (x, y) = (int(x), int(y));
                        let result = x.zip(y).and_then(|(x, y)| match op {
                            ArithOp::Add => x.checked_add(y),
                            ArithOp::Sub => x.checked_sub(y),
                            _ => x.checked_mul(y),
                        });
                        match e.ty {
                            Type::Money => result.map(Const::Money),
                            Type::Days => result.map(Const::Days),
                            _ => result.map(Const::Int),
                        }
                    }
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    /// Whether an expression is never unknown on a row the query accepts
    /// (its fields are then present where the schema says so, its lists
    /// hold no NULL): conservative, `false` when in doubt.
    fn certain(&self, e: &Expr) -> bool {
        if let Some(known) = self.constant_of(e) {
            return known.is_some();
        }
        match &e.kind {
            ExprKind::Field { base, path } => self.field_certain(*base, path),
            ExprKind::Not(a) | ExprKind::IntToNumber(a) | ExprKind::MoneyToNumber(a) => self.certain(a),
            ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Compare(_, a, b) | ExprKind::Text(_, a, b) => {
                self.certain(a) && self.certain(b)
            }
            ExprKind::Between { value, low, high } => self.certain(value) && self.certain(low) && self.certain(high),
            ExprKind::In { value, list } => match &list.kind {
                ExprKind::List(items) => self.certain(value) && items.iter().all(|i| self.certain(i)),
                _ => self.certain(value) && self.certain(list),
            },
            ExprKind::IsMissing(_) => true,
            ExprKind::Coalesce(a, b) => self.certain(a) || self.certain(b),
            ExprKind::Def(id) => self.rules.definitions.get(*id).is_some_and(|d| self.certain(&d.value)),
            // Over a list that is there, with filters and values known: a
            // count, `any`, `all`, and a sum of `int` or money (a double's
            // may overflow, as may a long sum of 64-bit integers: not that).
            ExprKind::Aggregate { func, list, projection, filter } => {
                let Type::List(element) = &list.ty else { return false };
                if !self.certain(list)
                    || matches!(func, AggregateFn::Min | AggregateFn::Max | AggregateFn::Avg | AggregateFn::Sum)
                {
                    return false;
                }
                let element_certain = |this: &Self| {
                    let mut inner = Writer { elements: this.elements.clone(), ..this.shallow() };
                    inner.elements.push((String::new(), (**element).clone()));
                    let filter_known = filter.as_deref().map_or(true, |f| inner.certain(f));
                    let value_known = inner.field_certain(Base::Element(0), projection);
                    filter_known && (filter.is_some() || *func == AggregateFn::Count || value_known)
                };
                element_certain(self)
            }
            _ => false,
        }
    }

    /// Whether every field on a path is declared without `optional`.
    fn field_certain(&self, base: Base, path: &[usize]) -> bool {
        let mut record = match base {
            Base::Profile => Some(0),
            Base::Element(depth) => {
                let index = self.elements.len().checked_sub(1 + depth as usize);
                match index.and_then(|i| self.elements.get(i)) {
                    Some((_, Type::Record(r))) => Some(*r),
                    Some(_) => return path.is_empty(),
                    None => return false,
                }
            }
        };
        for &slot in path {
            let Some(field) =
                record.and_then(|r| self.rules.schema.records.get(r)).and_then(|r| r.fields.get_index(slot))
            else {
                return false;
            };
            if field.1.optional {
                return false;
            }
            record = if let Type::Record(r) = field.1.ty { Some(r) } else { None };
        }
        true
    }

    /// A comparison of a date field (as the table holds it) with a known
    /// date: the field, the date, and whether the field is on the right.
    fn date_against_constant<'e>(&self, a: &'e Expr, b: &'e Expr) -> Option<(&'e Expr, Date, bool)> {
        match (&a.kind, &b.kind) {
            (ExprKind::Field { .. }, _) if a.ty == Type::Date => match self.constant_of(b) {
                Some(Some(Const::Date(date))) => Some((a, date, false)),
                _ => None,
            },
            (_, ExprKind::Field { .. }) if b.ty == Type::Date => match self.constant_of(a) {
                Some(Some(Const::Date(date))) => Some((b, date, true)),
                _ => None,
            },
            _ => None,
        }
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("e{}", self.aliases)
    }

    fn aggregate(
        &mut self,
        e: &Expr,
        func: AggregateFn,
        list: &Expr,
        projection: &[usize],
        filter: Option<&Expr>,
    ) -> Result<Frag, Refusal> {
        let d = self.dialect;
        let Type::List(element) = &list.ty else { return Err(self.refuse(e.span, "an aggregate needs a list")) };
        let l = self.raw_or_value(list)?;
        let l = self.once(l, "l");
        let alias = self.alias();
        self.elements.push((alias.clone(), (**element).clone()));
        let inner = (|| {
            let t = match filter {
                Some(f) => Some(self.truth(f)?),
                None => None,
            };
            let value = Expr {
                kind: ExprKind::Field { base: Base::Element(0), path: projection.to_vec() },
                ty: projected_type(self.rules, element, projection),
                nullable: true,
                span: e.span,
            };
            let v = match func {
                AggregateFn::Count => None,
                AggregateFn::Any | AggregateFn::All if filter.is_some() => None,
                AggregateFn::Any | AggregateFn::All => Some(self.truth(&value)?),
                _ => Some(self.value(&value)?),
            };
            let certain_t = filter.map_or(true, |f| self.certain(f));
            let certain_v = self.certain(&value);
            Ok((t, v, value.ty, certain_t, certain_v))
        })();
        self.elements.pop();
        let (t, v, ty, certain_t, certain_v) = inner?;
        let t_sql = t.as_ref().map_or("2".to_owned(), |t| t.sql.clone());
        let v_sql = v.as_ref().map_or("NULL".to_owned(), |v| v.sql.clone());
        let w = d.wide();
        // Unknown when a filter is, or a value that passes it is.
        let unknown = "MAX(CASE WHEN t = 1 OR (t = 2 AND v IS NULL) THEN 1 ELSE 0 END) = 1";
        let finish = match func {
            AggregateFn::Count => "CASE WHEN MAX(CASE WHEN t = 1 THEN 1 ELSE 0 END) = 1 THEN NULL ELSE COUNT(CASE WHEN t = 2 THEN 1 END) END".to_owned(),
            AggregateFn::Any => {
                if filter.is_some() { "COALESCE(MAX(t), 0)".to_owned() } else { "COALESCE(MAX(v), 0)".to_owned() }
            }
            AggregateFn::All => {
                if filter.is_some() { "COALESCE(MIN(t), 2)".to_owned() } else { "COALESCE(MIN(v), 2)".to_owned() }
            }
            AggregateFn::Sum => match ty {
                Type::Number => format!("CASE WHEN {unknown} THEN NULL ELSE {} END", float_sum(d)),
                _ => format!(
                    "CASE WHEN {unknown} THEN NULL ELSE {} END",
                    d.narrow(&format!("COALESCE(SUM(CASE WHEN t = 2 THEN CAST(v AS {w}) END), 0)"))
                ),
            },
            AggregateFn::Avg => {
                let count = "COUNT(CASE WHEN t = 2 THEN 1 END)";
                let total = format!("SUM(CASE WHEN t = 2 THEN CAST(v AS {w}) END)");
                let mean = match ty {
                    Type::Money => {
                        let q = d.quotient(&format!("(ABS({total}) * 2 + {count})"), &format!("({count} * 2)"));
                        d.narrow(&format!("(SIGN({total}) * {q})"))
                    }
                    Type::Int => format!("(CAST({total} AS {f}) / {count})", f = d.double()),
                    _ => float_op(d, ArithOp::Div, &float_sum(d), &format!("CAST({count} AS {})", d.double())),
                };
                format!("CASE WHEN {unknown} THEN NULL WHEN {count} = 0 THEN NULL ELSE {mean} END")
            }
            AggregateFn::Min | AggregateFn::Max => {
                let name = if func == AggregateFn::Min { "MIN" } else { "MAX" };
                let passing = d.bytewise("CASE WHEN t = 2 THEN v END".to_owned());
                let passing = if ty == Type::String { passing } else { "CASE WHEN t = 2 THEN v END".to_owned() };
                format!("CASE WHEN {unknown} THEN NULL ELSE {name}({passing}) END")
            }
        };
        let body = match d.unnest(&l.sql, &alias) {
            Some(rows) => {
                format!("(SELECT {finish} FROM (SELECT {t_sql} AS t, {v_sql} AS v FROM {rows}) AS a_{alias})")
            }
            None => {
                // Known truths and values need no pairs and no unknown check.
                match certain(
                    d,
                    &l.sql,
                    &alias,
                    filter.map(|_| t_sql.as_str()),
                    &v_sql,
                    func,
                    &ty,
                    certain_t,
                    certain_v,
                ) {
                    Some(sql) => sql,
                    None => lambdas(d, &l.sql, &alias, &t_sql, &v_sql, func, &ty, filter.is_some()),
                }
            }
        };
        let sql = if self.certain(list) {
            body
        } else {
            format!("(CASE WHEN {l} IS NULL THEN NULL ELSE {body} END)", l = l.sql)
        };
        let mut parts = vec![&l];
        parts.extend(t.as_ref());
        parts.extend(v.as_ref());
        Ok(Frag::from(sql, &parts))
    }
}

/// An aggregate by higher-order functions over a list whose filter
/// truths (`t`, when filtered) and values are never unknown: the elements
/// that pass, and their values, without pairing them; `None` where the
/// general form ([`lambdas`]) is needed.
#[allow(clippy::too_many_arguments)]
fn certain(
    d: Dialect,
    list: &str,
    alias: &str,
    t: Option<&str>,
    v: &str,
    func: AggregateFn,
    ty: &Type,
    certain_t: bool,
    certain_v: bool,
) -> Option<String> {
    if !certain_t {
        return None;
    }
    let passing = match t {
        Some(t) => d.filter(list, alias, &format!("{t} = 2")),
        None => list.to_owned(),
    };
    let w = d.wide();
    Some(match func {
        AggregateFn::Count => d.size(&passing),
        // The truths of the filter, or of the elements themselves.
        AggregateFn::Any | AggregateFn::All => {
            let truths = d.transform(list, alias, t.unwrap_or(v));
            match func {
                AggregateFn::Any => format!("COALESCE({}, 0)", d.array_extreme(&truths, true)),
                _ => format!("COALESCE({}, 2)", d.array_extreme(&truths, false)),
            }
        }
        _ if !certain_v => return None,
        AggregateFn::Sum | AggregateFn::Avg => {
            let values = d.transform(&passing, alias, v);
            let total = match ty {
                // Doubles summed in order, as narval sums them.
                Type::Number => d.fold(&values, &format!("CAST(0 AS {})", d.double()), "acc", "x", "acc + x"),
                _ if d == Dialect::DuckDb => format!("COALESCE(list_sum({values}), 0)"),
                _ => d.fold(&values, &format!("CAST(0 AS {w})"), "acc", "x", &format!("acc + CAST(x AS {w})")),
            };
            if func == AggregateFn::Sum {
                return Some(match ty {
                    Type::Number => finite_or_null(d, &total),
                    _ => d.narrow(&total),
                });
            }
            let count = d.size(&passing);
            let mean = match ty {
                Type::Money => {
                    let q = d.quotient(&format!("(ABS({total}) * 2 + {count})"), &format!("({count} * 2)"));
                    d.narrow(&format!("(SIGN({total}) * {q})"))
                }
                Type::Int => format!("(CAST({total} AS {f}) / {count})", f = d.double()),
                _ => finite_or_null(d, &format!("({total} / {count})")),
            };
            format!("(CASE WHEN {count} = 0 THEN NULL ELSE {mean} END)")
        }
        AggregateFn::Min | AggregateFn::Max => {
            d.array_extreme(&d.transform(&passing, alias, v), func == AggregateFn::Max)
        }
    })
}

/// An enum field compared with a member, either way round: the field and
/// the member's text.
fn enum_member<'e>(rules: &'e CheckedRules, a: &'e Expr, b: &'e Expr) -> Option<(&'e Expr, &'e str)> {
    let (field, member) = match (&a.kind, &b.kind) {
        (ExprKind::Field { .. }, ExprKind::Const(Const::Enum(m))) => (a, *m),
        (ExprKind::Const(Const::Enum(m)), ExprKind::Field { .. }) => (b, *m),
        _ => return None,
    };
    let Type::Enum(id) = field.ty else { return None };
    let name = rules.schema.enums.get(id)?.members.get(member as usize)?;
    Some((field, name.as_str()))
}

/// An aggregate by higher-order functions over the list (Spark,
/// Snowflake): each element's filter truth `t` and value `v` paired, then
/// the same finish as the row-wise form.
#[allow(clippy::too_many_arguments)]
fn lambdas(
    d: Dialect,
    list: &str,
    alias: &str,
    t: &str,
    v: &str,
    func: AggregateFn,
    ty: &Type,
    filtered: bool,
) -> String {
    let pairs = d.transform(list, alias, &d.pair(t, v));
    let (pt, pv) = (d.pair_t("x"), d.pair_v("x", ty));
    let passing = d.filter(&pairs, "x", &format!("{pt} = 2"));
    let unknown =
        format!("{} > 0", d.size(&d.filter(&pairs, "x", &format!("{pt} = 1 OR ({pt} = 2 AND {pv} IS NULL)"))));
    let w = d.wide();
    let sum = |zero: String, cast: &str| d.fold(&passing, &zero, "acc", "x", &format!("acc + CAST({pv} AS {cast})"));
    match func {
        AggregateFn::Count => format!(
            "(CASE WHEN {} > 0 THEN NULL ELSE {} END)",
            d.size(&d.filter(&pairs, "x", &format!("{pt} = 1"))),
            d.size(&passing)
        ),
        AggregateFn::Any | AggregateFn::All => {
            let truths = if filtered { d.transform(&pairs, "x", &pt) } else { d.transform(&pairs, "x", &pv) };
            match func {
                AggregateFn::Any => format!("COALESCE({}, 0)", d.array_extreme(&truths, true)),
                _ => format!("COALESCE({}, 2)", d.array_extreme(&truths, false)),
            }
        }
        AggregateFn::Sum => {
            let total = match ty {
                Type::Number => finite_or_null(d, &sum(format!("CAST(0 AS {})", d.double()), d.double())),
                _ => d.narrow(&sum(format!("CAST(0 AS {w})"), w)),
            };
            format!("(CASE WHEN {unknown} THEN NULL ELSE {total} END)")
        }
        AggregateFn::Avg => {
            let count = d.size(&passing);
            let mean = match ty {
                Type::Money => {
                    let total = sum(format!("CAST(0 AS {w})"), w);
                    let q = d.quotient(&format!("(ABS({total}) * 2 + {count})"), &format!("({count} * 2)"));
                    d.narrow(&format!("(SIGN({total}) * {q})"))
                }
                Type::Int => format!("(CAST({} AS {f}) / {count})", sum(format!("CAST(0 AS {w})"), w), f = d.double()),
                _ => {
                    finite_or_null(d, &format!("({} / {count})", sum(format!("CAST(0 AS {})", d.double()), d.double())))
                }
            };
            format!("(CASE WHEN {unknown} THEN NULL WHEN {count} = 0 THEN NULL ELSE {mean} END)")
        }
        AggregateFn::Min | AggregateFn::Max => {
            let values = d.transform(&passing, "x", &pv);
            format!("(CASE WHEN {unknown} THEN NULL ELSE {} END)", d.array_extreme(&values, func == AggregateFn::Max))
        }
    }
}

/// A comparison operator in SQL.
fn cmp_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// The operands of a chain of `and` (or of `or`), left to right.
fn flatten<'e>(e: &'e Expr, is_and: bool, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::And(a, b) if is_and => {
            flatten(a, is_and, out);
            flatten(b, is_and, out);
        }
        ExprKind::Or(a, b) if !is_and => {
            flatten(a, is_and, out);
            flatten(b, is_and, out);
        }
        _ => out.push(e),
    }
}

/// The type of the field a projection reads from an element.
fn projected_type(rules: &CheckedRules, element: &Type, projection: &[usize]) -> Type {
    let mut ty = element.clone();
    for &slot in projection {
        let Type::Record(record) = ty else { return ty };
        match rules.schema.records.get(record).and_then(|r| r.fields.get_index(slot)) {
            Some((_, field)) => ty = field.ty.clone(),
            None => return ty,
        }
    }
    ty
}

/// A 64-bit integer literal (the smallest written as an expression, which
/// some engines would otherwise read as a wider number negated).
pub(crate) fn integer(i: i64, d: Dialect) -> String {
    if i == i64::MIN {
        format!("CAST(-9223372036854775807 - 1 AS {})", d.bigint())
    } else if i < 0 {
        format!("({i})")
    } else {
        i.to_string()
    }
}

/// The day numbers of 0001-01-01 (`false`) and 9999-12-31 (`true`).
pub(crate) fn date_bound(high: bool) -> i64 {
    let date = if high { Date::from_ymd(9999, 12, 31) } else { Date::from_ymd(1, 1, 1) };
    date.map_or(0, |d| i64::from(d.0))
}

/// `a op b` on doubles: NULL when the result is not finite, and on
/// division by zero. PostgreSQL raises an error on overflow and on
/// underflow to zero, so there the operation runs only where it cannot
/// (`a` and `b` are then written more than once).
pub(crate) fn float_op(d: Dialect, op: ArithOp, a: &str, b: &str) -> String {
    let symbol = match op {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
        ArithOp::Div => "/",
    };
    if d != Dialect::Postgres {
        let divisor = if op == ArithOp::Div { format!("NULLIF({b}, 0)") } else { b.to_owned() };
        return finite_or_null(d, &format!("({a} {symbol} {divisor})"));
    }
    // The least subnormal, 2^-1074: a result of magnitude 2^-1075 or less
    // rounds to zero. Every test below is on magnitudes that cannot raise
    // an error themselves, once both operands are known (`LEAST` and
    // `GREATEST` skip a NULL).
    let tiny = format!("CAST('4.9406564584124654e-324' AS {})", d.double());
    let (aa, ab) = (format!("ABS({a})"), format!("ABS({b})"));
    match op {
        // Halving is exact for operands of 1 or more, and the halves' sum
        // overflows exactly when the sum does. A sum never underflows.
        ArithOp::Add | ArithOp::Sub => format!(
            "(CASE WHEN {aa} < 1e307 AND {ab} < 1e307 THEN {a} {symbol} {b} \
             WHEN {aa} < 1 OR {ab} < 1 THEN {a} {symbol} {b} \
             WHEN ABS({a} / 2 {symbol} {b} / 2) <= {MAX_DOUBLE} / 2 THEN {a} {symbol} {b} END)"
        ),
        ArithOp::Mul => format!(
            "(CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL WHEN {a} = 0 OR {b} = 0 THEN {a} * {b} \
             WHEN {aa} BETWEEN 1e-150 AND 1e150 AND {ab} BETWEEN 1e-150 AND 1e150 THEN {a} * {b} \
             WHEN {aa} >= 1 AND {ab} >= 1 THEN CASE WHEN {aa} > {MAX_DOUBLE} / {ab} THEN NULL ELSE {a} * {b} END \
             WHEN {aa} < 1 AND {ab} < 1 THEN CASE WHEN 2 * {aa} <= {tiny} / {ab} THEN 0 ELSE {a} * {b} END \
             WHEN LEAST({aa}, {ab}) >= 1e-300 THEN {a} * {b} \
             WHEN LEAST({aa}, {ab}) * 1e300 * GREATEST({aa}, {ab}) <= 2.4703282292062327e-24 THEN 0 \
             ELSE {a} * {b} END)"
        ),
        ArithOp::Div => format!(
            "(CASE WHEN {a} IS NULL OR {b} = 0 OR {b} IS NULL THEN NULL WHEN {a} = 0 THEN {a} / {b} \
             WHEN {ab} >= 1 AND {aa} >= 1 THEN {a} / {b} \
             WHEN {ab} >= 1 THEN CASE WHEN 2 * {aa} <= {tiny} * {ab} THEN 0 ELSE {a} / {b} END \
             WHEN {aa} > {MAX_DOUBLE} * {ab} THEN NULL \
             ELSE {a} / {b} END)"
        ),
    }
}

/// The sum of the doubles `v` of the rows where `t = 2`, in their order,
/// or NULL when it is not finite (0 for none). PostgreSQL's `SUM` raises an
/// error on overflow: there the magnitudes of 10^300 and more are summed
/// apart, divided by 1024 (exactly), and the two parts combined only when
/// the total is finite.
fn float_sum(d: Dialect) -> String {
    if d != Dialect::Postgres {
        return finite_or_null(d, "COALESCE(SUM(CASE WHEN t = 2 THEN v END), 0)");
    }
    let small = "COALESCE(SUM(CASE WHEN t = 2 AND ABS(v) < 1e300 THEN v END), 0)";
    let big = "SUM(CASE WHEN t = 2 AND ABS(v) >= 1e300 THEN v / 1024 END)";
    format!(
        "(CASE WHEN {big} IS NULL THEN {small} WHEN ABS({big}) > ({MAX_DOUBLE} - ABS({small})) / 1024 THEN NULL \
         ELSE {small} + {big} * 1024 END)"
    )
}

/// A double, or NULL when it is not finite.
fn finite_or_null(d: Dialect, number: &str) -> String {
    let inf = format!("CAST('Infinity' AS {})", d.double());
    let ninf = format!("CAST('-Infinity' AS {})", d.double());
    format!("NULLIF(NULLIF({number}, {inf}), {ninf})")
}
