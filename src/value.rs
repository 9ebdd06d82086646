//! Scalar values shared by every stage: calendar dates and exact money.

use std::fmt;

/// A calendar date (proleptic Gregorian), stored as days since 1970-01-01 so
/// that comparison and `± N days` are integer operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Date(pub i32);

impl Date {
    /// The date of a year, month and day, if it exists (years 1 to 9999).
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        if day > days_in_month(year, month) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = i64::from(if month <= 2 { year - 1 } else { year });
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        i32::try_from(era * 146_097 + doe - 719_468).ok().map(Date)
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = text.get(range)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = i32::try_from(num(0..4)?).ok()?;
        Date::from_ymd(year, num(5..7)?, num(8..10)?)
    }

    /// Year, month and day.
    pub fn ymd(self) -> (i32, u32, u32) {
        // Howard Hinnant's civil_from_days.
        let z = i64::from(self.0) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year as i32, month as u32, day as u32)
    }

    /// The date `days` later (earlier when negative), if it stays in range.
    pub fn add_days(self, days: i64) -> Option<Date> {
        let d = i64::from(self.0).checked_add(days)?;
        let date = Date(i32::try_from(d).ok()?);
        let (year, _, _) = date.ymd();
        (1..=9999).contains(&year).then_some(date)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl std::str::FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        Date::parse(s).ok_or_else(|| format!("`{s}` is not a date in the form YYYY-MM-DD"))
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses a plain decimal (`2500`, `-12.5`, `0.99`) into exact cents. More
/// than two decimals, or an amount beyond `i64` cents, gives `None`.
pub fn parse_cents(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if whole.is_empty() || !whole.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|c| c.is_ascii_digit()) || (digits.contains('.') && fraction.is_empty()) {
        return None;
    }
    // Trailing zeros beyond the cents are exact: `12.500` is 1250 cents.
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 2 {
        return None;
    }
    // In i128, so that the most negative amount, `-92233720368547758.08`,
    // whose magnitude is one cent beyond `i64::MAX`, is read too.
    let whole: i128 = whole.parse().ok()?;
    let mut cents: i128 = fraction.parse::<i128>().unwrap_or(0);
    if fraction.len() == 1 {
        cents *= 10;
    }
    let value = whole.checked_mul(100)?.checked_add(cents)?;
    i64::try_from(if negative { -value } else { value }).ok()
}

/// The amount nearest to a number, in cents, halves away from zero (as
/// SQL's `ROUND`): `money(x)`. The number itself is rounded, not `x * 100`
/// as floating point computes it: `1.115` is the double
/// 1.1149999999999999911…, so $1.11. `None` when it is not finite or the
/// amount is beyond the range of cents.
pub fn nearest_cents(n: f64) -> Option<i64> {
    if !n.is_finite() {
        return None;
    }
    let magnitude = n.abs();
    // Whole units and a fraction in [0, 1), both exact.
    let units = magnitude.trunc();
    let fraction = magnitude - units;
    if units >= 1e17 {
        return None;
    }
    // fraction * 100 is exactly `scaled + error`: the rounded product and
    // what rounding lost, which a fused multiply-add gives exactly.
    let scaled = fraction * 100.0;
    let error = fraction.mul_add(100.0, -scaled);
    // Below 100, `scaled` splits exactly into whole cents and a rest, and
    // `error` is smaller than half the spacing of doubles there: it only
    // decides when the rest is exactly one half.
    let whole = scaled.trunc();
    let rest = scaled - whole;
    let up = rest > 0.5 || (rest == 0.5 && error >= 0.0);
    let cents = (units as i64).checked_mul(100)?.checked_add(whole as i64 + i64::from(up))?;
    Some(if n < 0.0 { -cents } else { cents })
}

/// Below this size a JSON number is read as money: a double still tells
/// every amount of cents from the next up to 2^46 (about 7e13), and reading
/// one back is exact. Above, `1000000000000000.5` and `…0.48` are one double.
pub const MONEY_NUMBER_LIMIT: f64 = 1e13;

/// The cents of a JSON number (a double) given for `money`, in dollars.
///
/// A double is read as the nearest whole cent `c` when it lies within
/// rounding noise of `c / 100`: at most a billionth of its size (of a
/// dollar, for amounts under $1) away, and never more than a tenth of a
/// cent. So `37.5` is 3750 cents, and `0.30000000000000004`, what `0.1 +
/// 0.2` computes in floating point, is 30; `12.345` is half a cent from
/// any amount and gives `None`, as does anything not below
/// [`MONEY_NUMBER_LIMIT`] or not finite. Below the limit, `f * 100` is
/// within a sixteenth of a cent of `f`'s cents, so rounding it finds `c`.
pub fn cents_of_number(f: f64) -> Option<i64> {
    if !f.is_finite() || f.abs() >= MONEY_NUMBER_LIMIT {
        return None;
    }
    let cents = (f * 100.0).round();
    let noise = (f.abs().max(1.0) * 1e-9).min(1e-3);
    ((cents / 100.0 - f).abs() <= noise).then_some(cents as i64)
}

/// An exact amount of money, in whole cents: what a `money` field holds.
///
/// For embedders: put a `Money` in the profile a service serialises
/// ([`crate::RuleSet::assign`]) and the amount arrives exactly, whatever
/// arithmetic computed it. It serialises as a number of dollars, as a
/// `money` field expects: a whole amount as a JSON integer (`50`), another
/// amount below `MONEY_NUMBER_LIMIT` as the double nearest to it
/// (`12.5`, which reads back as exactly 1250 cents), a larger one as a
/// decimal string (`"92233720368547758.07"`). A field declared `money in
/// cents` takes the integer [`Money::cents`] instead.
///
/// ```
/// use narval::Money;
/// let total = Money::from_cents(1250);
/// assert_eq!(serde_json::to_string(&total).unwrap(), "12.5");
/// assert_eq!(Money::from_number(0.1 + 0.2), Some(Money::from_cents(30)));
/// assert_eq!("2500.99".parse::<Money>().map(Money::cents), Ok(250_099));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Money(i64);

impl Money {
    /// The amount of so many cents.
    pub const fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    /// The amount in cents.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// So many whole dollars (units), if that fits in the range of cents.
    pub fn from_units(units: i64) -> Option<Money> {
        units.checked_mul(100).map(Money)
    }

    /// A number of dollars computed in floating point, read as the decoder
    /// reads a JSON number (`cents_of_number`): the nearest cent when the
    /// number is within rounding noise of one, else `None`. To round any
    /// number to the cent, use [`Money::nearest`].
    pub fn from_number(dollars: f64) -> Option<Money> {
        cents_of_number(dollars).map(Money)
    }

    /// Any number of dollars rounded to the nearest cent, halves away from
    /// zero, as `money(x)` in the language (`nearest_cents`).
    pub fn nearest(dollars: f64) -> Option<Money> {
        nearest_cents(dollars).map(Money)
    }

    /// Parses a plain decimal of dollars, as a `money` field reads a
    /// string: `2500.99`, `-5` (`parse_cents`).
    pub fn parse(text: &str) -> Option<Money> {
        parse_cents(text).map(Money)
    }
}

impl fmt::Display for Money {
    /// The decimal [`Money::parse`] reads back: `2500.99`, `-0.50`, `10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_cents(self.0))
    }
}

impl std::str::FromStr for Money {
    type Err = String;
    fn from_str(s: &str) -> Result<Money, String> {
        Money::parse(s).ok_or_else(|| "not an amount of dollars with at most two decimals, such as `12.50`".to_string())
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let cents = self.0;
        if cents % 100 == 0 {
            serializer.serialize_i64(cents / 100)
        } else if (cents as f64 / 100.0).abs() < MONEY_NUMBER_LIMIT {
            // Below the limit cents are exact as a double, and the quotient
            // is the double nearest the amount: it reads back exactly.
            serializer.serialize_f64(cents as f64 / 100.0)
        } else {
            serializer.collect_str(self)
        }
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    /// Reads what a `money` field accepts: a JSON number of dollars or a
    /// decimal string.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        struct Amount;
        impl serde::de::Visitor<'_> for Amount {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount of dollars with at most two decimals")
            }
            fn visit_i64<E: serde::de::Error>(self, units: i64) -> Result<Money, E> {
                Money::from_units(units).ok_or_else(|| E::custom("an amount beyond the range of cents"))
            }
            fn visit_u64<E: serde::de::Error>(self, units: u64) -> Result<Money, E> {
                let units = i64::try_from(units).map_err(|_| E::custom("an amount beyond the range of cents"))?;
                self.visit_i64(units)
            }
            fn visit_f64<E: serde::de::Error>(self, dollars: f64) -> Result<Money, E> {
                Money::from_number(dollars).ok_or_else(|| E::custom("not an amount with at most two decimals"))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Money, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Amount)
    }
}

/// Writes cents as a decimal amount: `250099` is `2500.99`, `1000` is `10`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let (whole, fraction) = (abs / 100, abs % 100);
    if fraction == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_days() {
        for text in ["1970-01-01", "2012-02-29", "2000-12-31", "0001-01-01", "9999-12-31", "1969-07-20"] {
            let date = Date::parse(text).unwrap_or(Date(i32::MIN));
            assert_eq!(date.to_string(), text);
        }
        assert_eq!(Date::parse("1970-01-02"), Some(Date(1)));
        assert_eq!(Date::parse("1969-12-31"), Some(Date(-1)));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for text in ["2011-02-29", "2012-13-01", "2012-00-10", "2012-04-31", "2012-4-01", "20120401", "2012-04-0x"] {
            assert_eq!(Date::parse(text), None, "{text}");
        }
    }

    #[test]
    fn cents_are_exact() {
        assert_eq!(parse_cents("2500.99"), Some(250_099));
        assert_eq!(parse_cents("0.5"), Some(50));
        assert_eq!(parse_cents("-12.50"), Some(-1250));
        assert_eq!(parse_cents("3"), Some(300));
        assert_eq!(parse_cents("1.005"), None);
        assert_eq!(parse_cents("1."), None);
        assert_eq!(parse_cents(".5"), None);
        assert_eq!(parse_cents("99999999999999999999"), None);
        assert_eq!(parse_cents("92233720368547758.07"), Some(i64::MAX));
        assert_eq!(parse_cents("92233720368547758.08"), None);
        assert_eq!(parse_cents("-92233720368547758.08"), Some(i64::MIN));
        assert_eq!(parse_cents("-92233720368547758.09"), None);
        assert_eq!(format_cents(250_099), "2500.99");
        assert_eq!(nearest_cents(12.5), Some(1250));
        assert_eq!(nearest_cents(0.125), Some(13));
        assert_eq!(nearest_cents(-0.125), Some(-13));
        assert_eq!(nearest_cents(1.115), Some(111));
        assert_eq!(nearest_cents(2.675), Some(267));
        // 0.995 is the double 0.99499999999999999555…
        assert_eq!(nearest_cents(0.995), Some(99));
        assert_eq!(nearest_cents(0.375), Some(38));
        assert_eq!(nearest_cents(0.999_999_999_999_999_9), Some(100));
        assert_eq!(nearest_cents(1e16), Some(1_000_000_000_000_000_000));
        assert_eq!(nearest_cents(9.2e16), Some(9_200_000_000_000_000_000));
        assert_eq!(nearest_cents(9.3e16), None);
        assert_eq!(nearest_cents(f64::NAN), None);
        assert_eq!(format_cents(-50), "-0.50");
        assert_eq!(format_cents(1000), "10");
    }
}

/// The bucket of a value's text under a salt, in hundredths: an integer in
/// 0..=9999. `bucket(x, "salt")` is this divided by 100.
///
/// `h` is the first 4 bytes of SHA-256 over the UTF-8 of `salt`, `:` and
/// the value's text (an `int` as its decimal text, `-` for negatives; a
/// `string` as it is), read as a big-endian unsigned 32-bit integer; the
/// bucket is `floor(h * 10000 / 2^32)`. Nothing here depends on the
/// machine, the run, the thread or the narval version, and SQL warehouses
/// compute the same (the language guide gives a PostgreSQL expression).
pub fn bucket_hundredths(salt: &str, text: &str) -> u32 {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update(b":");
    hasher.update(text.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0_u8; 4];
    for (to, from) in first.iter_mut().zip(digest.iter()) {
        *to = *from;
    }
    let h = u64::from(u32::from_be_bytes(first));
    // h < 2^32, so the product fits and the quotient is below 10000.
    u32::try_from((h * 10_000) >> 32).unwrap_or(9_999)
}

/// [`bucket_hundredths`] as the `number` `bucket(..)` gives: 0.00 to 99.99.
pub fn bucket(salt: &str, text: &str) -> f64 {
    f64::from(bucket_hundredths(salt, text)) / 100.0
}

#[cfg(test)]
mod bucket_tests {
    use super::{bucket, bucket_hundredths};

    /// Known answers computed apart from narval, with python3's hashlib:
    /// `python3 -c 'import hashlib,sys; s,v=sys.argv[1:]; h=int.from_bytes(hashlib.sha256((s+":"+v).encode()).digest()[:4],"big"); print(h*10000>>32)' SALT VALUE`
    #[test]
    fn buckets_match_an_independent_sha256() {
        for (salt, text, expected) in KNOWN {
            assert_eq!(bucket_hundredths(salt, text), *expected, "bucket({text}, {salt:?})");
        }
        assert_eq!(bucket("lift_2012", "1"), 29.26);
    }

    const KNOWN: &[(&str, &str, u32)] = &[
        ("lift_2012", "1", 2926),
        ("lift_2012", "2", 2931),
        ("lift_2012", "-7", 7008),
        ("ab_2012", "1", 8891),
        ("ab_2012", "1000000", 7810),
        ("ab_2012", "9223372036854775807", 7810),
        ("ab_2012", "", 5730),
        ("ab_2012", "a b", 4094),
        ("x", "h\u{e9}llo", 9563),
    ];
}
