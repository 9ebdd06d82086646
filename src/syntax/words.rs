//! Grammar rules in words, so that a user never sees a raw pest rule name.

use pest::error::{Error, ErrorVariant, InputLocation};

use super::grammar::Rule;
use crate::text::diagnostic::{Code, Diagnostic};
use crate::text::source::{FileId, Span};

/// What a rule means to a reader of the error message.
fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::WHITESPACE | Rule::COMMENT => "a space",
        Rule::file | Rule::item => "a schema, stream declaration, definition, rule, profile, test or policy",
        Rule::version | Rule::kw_narval => "a version line such as `narval 1`",
        Rule::import => "an import such as `import \"schema.narval\"`",
        Rule::schema => "`schema { ... }`",
        Rule::field_list | Rule::field => "a field such as `age: int`",
        Rule::optional | Rule::kw_optional => "`optional`",
        Rule::tags | Rule::kw_tagged => "`tagged`",
        Rule::in_cents | Rule::kw_cents => "`in cents`",
        Rule::tag => "a category name",
        Rule::field_type | Rule::scalar_type => {
            "a type (`bool`, `int`, `number`, `money`, `string`, `date`, `one of ...`, `list of ...` or `{ ... }`)"
        }
        Rule::list_type | Rule::kw_list => "`list of`",
        Rule::record_type => "a record type `{ ... }`",
        Rule::enum_type | Rule::kw_one => "`one of`",
        Rule::kw_of => "`of`",
        Rule::enum_member => "an enum value",
        Rule::streams => "a stream declaration such as `issue streams jobs, healthcare`",
        Rule::stream_kind => "`solicitation` or `issue`",
        Rule::kw_stream | Rule::kw_streams => "`streams`",
        Rule::stream_decl => "a stream name",
        Rule::definition => "a definition such as `cap = $2500`",
        Rule::rule_decl => "a rule such as `name: condition -> stream`",
        Rule::action | Rule::assign | Rule::suppress | Rule::suppress_all => {
            "an action (`stream`, `no stream`, `no solicitations` or `no issues`)"
        }
        Rule::stream_kinds => "`solicitations` or `issues`",
        Rule::kw_no => "`no`",
        Rule::expr | Rule::operand | Rule::primary | Rule::prefix => "a value or condition",
        Rule::infix | Rule::arith_infix => "an operator",
        Rule::postfix => "an operator",
        Rule::not | Rule::kw_not => "`not`",
        Rule::neg => "`-`",
        Rule::or | Rule::kw_or => "`or`",
        Rule::and | Rule::kw_and => "`and`",
        Rule::eq => "`==`",
        Rule::ne => "`!=`",
        Rule::le => "`<=`",
        Rule::ge => "`>=`",
        Rule::lt => "`<`",
        Rule::gt => "`>`",
        Rule::coalesce => "`??`",
        Rule::add => "`+`",
        Rule::sub => "`-`",
        Rule::mul => "`*`",
        Rule::div => "`/`",
        Rule::between | Rule::kw_between => "`between`",
        Rule::not_in => "`not in`",
        Rule::in_list | Rule::kw_in => "`in`",
        Rule::contains | Rule::kw_contains => "`contains`",
        Rule::starts_with | Rule::kw_starts_with => "`starts_with`",
        Rule::ends_with | Rule::kw_ends_with => "`ends_with`",
        Rule::is_missing | Rule::is_present | Rule::kw_is => "`is missing`",
        Rule::kw_missing => "`missing`",
        Rule::group => "`(`",
        Rule::aggregate | Rule::agg_fn => "an aggregate such as `sum(donations.amount)`",
        Rule::kw_where => "`where`",
        Rule::convert | Rule::convert_to => "a conversion such as `number(total)`",
        Rule::has | Rule::kw_has => "`has`",
        Rule::today | Rule::kw_today => "`today`",
        Rule::it | Rule::kw_it => "`it`",
        Rule::path => "a field path such as `scores.support`",
        Rule::literal => "a literal value",
        Rule::date_lit => "a date such as `2012-06-01`",
        Rule::money_lit => "an amount such as `$2500`",
        Rule::number_lit => "a decimal number",
        Rule::int_lit | Rule::digits => "a whole number",
        Rule::duration | Rule::time_unit => "a duration such as `7 days`",
        Rule::bool_lit => "`true` or `false`",
        Rule::list_lit => "a list such as `[\"OH\", \"MI\"]`",
        Rule::string_lit | Rule::string_body | Rule::escape => "a string in double quotes",
        Rule::name | Rule::ident_char => "a name",
        Rule::keyword => "a keyword",
        Rule::kw_import => "`import`",
        Rule::kw_schema => "`schema`",
        Rule::arrow => "`->`",
        Rule::profile_decl | Rule::kw_profile => "a profile such as `profile supporter = { age: 40 }`",
        Rule::profile_value => "a profile: `{ ... }` or a profile name",
        Rule::kw_with => "`with`",
        Rule::test_decl | Rule::kw_test => "a test such as `test \"name\" { given ... expect ... }`",
        Rule::test_clause => "`given`, `today` or `expect`",
        Rule::given | Rule::kw_given => "`given`",
        Rule::test_today => "`today`",
        Rule::expect | Rule::kw_expect => "`expect`",
        Rule::expectation => "an expectation (`stream`, `no stream`, `no issues` or `issues = [...]`)",
        Rule::expect_exact => "`solicitations = [...]` or `issues = [...]`",
        Rule::record_value => "a record such as `{ age: 40 }`",
        Rule::entry => "a field and its value such as `age: 40`",
        Rule::value => "a value",
        Rule::list_value => "a list such as `[1, 2]`",
        Rule::missing_value => "`missing`",
        Rule::negative => "a negative number",
        Rule::require_decl | Rule::kw_require => "a requirement such as `require sms_consent: consent.sms for sms`",
        Rule::required | Rule::required_stream => "a stream, `solicitations` or `issues`",
        Rule::kw_for => "`for`",
        Rule::holdout_decl | Rule::kw_holdout => "a holdout such as `holdout lift: 5% -> no solicitations`",
        Rule::holdout_action => "a suppression (`no stream`, `no solicitations` or `no issues`)",
        Rule::percent => "a share such as `5%`",
        Rule::cap_decl | Rule::kw_at => "a cap such as `at most 3 solicitation streams`",
        Rule::kw_most => "`most`",
        Rule::bucket | Rule::kw_bucket => "a bucket such as `bucket(id, \"ab_2012\")`",
        Rule::salt => "`,` and a salt in quotes, as in `bucket(id, \"ab_2012\")`",
        Rule::policy_use => "a policy file such as `policy \"gdpr.narval\"`",
        Rule::policy_decl | Rule::kw_policy => "a policy such as `policy gdpr { ... }`",
        Rule::policy_clause => "`only read`, `read ... only if` or `never read`",
        Rule::only_read => "`only read` and field paths",
        Rule::never_read | Rule::kw_never => "`never read` and categories",
        Rule::read_only_if | Rule::kw_read => "`read` categories `only if` a consent field",
        Rule::kw_only => "`only`",
        Rule::kw_if => "`if`",
        Rule::category => "a category name such as `health`",
    }
}

/// Turns a pest error into a located diagnostic that lists, in words, what
/// could have come at that point.
pub(super) fn syntax_error(file: FileId, text: &str, error: &Error<Rule>) -> Diagnostic {
    let at = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    };
    let found = found_at(text, at);
    // At the end of the file, point just after the last thing written rather
    // than at a line past the last one.
    let at = if found.is_empty() { at.min(text.trim_end().len()) } else { at };
    let span = Span::new(file, at, at + found.len().max(1));
    let message = match &error.variant {
        // A name at the start of an item, then neither `:` nor `=`: pest
        // names only the optional description it tried, not the literals.
        ErrorVariant::ParsingError { positives, .. }
            if positives.as_slice() == [Rule::string_lit] && after_item_name(text, at) =>
        {
            format!(
                "expected `:` after a rule name, `=` after a definition name, or a description in quotes, found {}",
                describe_found(found)
            )
        }
        ErrorVariant::ParsingError { positives, .. } if positives.as_slice() == [Rule::int_lit] => {
            format!("expected a whole number, found {}", describe_found(found))
        }
        ErrorVariant::ParsingError { positives, .. } if positives.as_slice() == [Rule::string_lit] => {
            format!("expected a string in double quotes, found {}", describe_found(found))
        }
        ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let mut expected: Vec<&str> = Vec::new();
            // Everything that can start an operand reads as one phrase.
            let value = positives.iter().any(|r| starts_value(*r));
            if value {
                expected.push("a value such as a field, a number or `(`");
            }
            let after_arrow = positives.contains(&Rule::kw_no);
            let operator = !value && positives.iter().any(|r| is_operator(*r));
            if operator {
                expected.push("an operator such as `and` or `>=`");
            }
            let shown = |r: &Rule| {
                (!value || !(starts_value(*r) || within_value(*r) || is_operator(*r))) && !(operator && is_operator(*r))
            };
            for rule in positives.iter().filter(|r| shown(r)) {
                let words = if after_arrow && *rule == Rule::name { "a stream" } else { describe(*rule) };
                if !expected.contains(&words) {
                    expected.push(words);
                }
            }
            format!("expected {}, found {}", one_of(&expected), describe_found(found))
        }
        ErrorVariant::ParsingError { .. } => format!("unexpected {}", describe_found(found)),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    Diagnostic::new(Code::Syntax, span, message).with_label("unexpected here")
}

/// Whether the text before `at` is a name that starts a line, other than
/// the keywords a string follows (`import "..."`, `test "..."`).
fn after_item_name(text: &str, at: usize) -> bool {
    let line = text.get(..at).unwrap_or("").trim_end().rsplit(['\n', '\r']).next().unwrap_or("").trim_start();
    let is_name = line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && line.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_name && !matches!(line, "import" | "test")
}

/// Rules that can begin an operand.
fn starts_value(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::neg
            | Rule::not
            | Rule::group
            | Rule::aggregate
            | Rule::agg_fn
            | Rule::convert
            | Rule::convert_to
            | Rule::bucket
            | Rule::kw_bucket
            | Rule::date_lit
            | Rule::money_lit
            | Rule::number_lit
            | Rule::int_lit
            | Rule::duration
            | Rule::bool_lit
            | Rule::list_lit
            | Rule::string_lit
            | Rule::path
            | Rule::has
            | Rule::today
            | Rule::it
            | Rule::expr
            | Rule::operand
            | Rule::primary
            | Rule::literal
    )
}

/// Infix and postfix operators, which read as one phrase.
fn is_operator(rule: Rule) -> bool {
    super::grammar::is_operator(rule)
        || matches!(
            rule,
            Rule::kw_and
                | Rule::kw_or
                | Rule::kw_not
                | Rule::kw_in
                | Rule::kw_is
                | Rule::kw_between
                | Rule::kw_contains
                | Rule::kw_starts_with
                | Rule::kw_ends_with
                | Rule::time_unit
                | Rule::duration
        )
}

/// Tokens inside an operand that the phrase for a value already covers.
fn within_value(rule: Rule) -> bool {
    matches!(rule, Rule::name | Rule::kw_not | Rule::kw_has | Rule::kw_today | Rule::kw_it)
}

fn one_of(items: &[&str]) -> String {
    match items {
        [] => String::from("something else"),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token that starts at `at`: a word, a number, or one character.
fn found_at(text: &str, at: usize) -> &str {
    let rest = text.get(at..).unwrap_or("");
    if rest.starts_with("->") {
        return "->";
    }
    let word_len: usize = rest
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    if word_len > 0 {
        return rest.get(..word_len).unwrap_or("");
    }
    rest.chars().next().map_or("", |c| rest.get(..c.len_utf8()).unwrap_or(""))
}

fn describe_found(found: &str) -> String {
    match found {
        "" => String::from("end of file"),
        "\n" | "\r" => String::from("end of line"),
        _ => format!("`{found}`"),
    }
}
