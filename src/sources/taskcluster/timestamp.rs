//! ISO 8601 / RFC 3339 timestamps as Taskcluster and Treeherder write them
//! (`2020-03-10T04:40:43.718Z`, JavaScript's `Date.toISOString()`), read into
//! milliseconds since the Unix epoch without any clock or platform time API.

#![warn(missing_docs)]

/// Milliseconds since 1970-01-01T00:00:00Z of an RFC 3339 date-time
/// (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`). `None` when malformed.
pub fn parse_iso8601_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() < 20 {
        return None;
    }
    let year = digits(text, 0, 4)?;
    let month = digits(text, 5, 2)?;
    let day = digits(text, 8, 2)?;
    let hour = digits(text, 11, 2)?;
    let minute = digits(text, 14, 2)?;
    let second = digits(text, 17, 2)?;
    let separators_ok = bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        && bytes.get(13) == Some(&b':')
        && bytes.get(16) == Some(&b':');
    if !separators_ok
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let rest = text.get(19..)?;
    let (millis, zone) = split_fraction(rest)?;
    let offset_minutes = parse_zone(zone)?;
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}

/// The decimal number in `text[start..start + len]`, all ASCII digits.
fn digits(text: &str, start: usize, len: usize) -> Option<i64> {
    let part = text.get(start..start + len)?;
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Splits `.718Z` into (718 ms, "Z"); digits past milliseconds are dropped.
fn split_fraction(rest: &str) -> Option<(i64, &str)> {
    let Some(fraction_and_zone) = rest.strip_prefix('.') else {
        return Some((0, rest));
    };
    let digit_count = fraction_and_zone
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    if digit_count == 0 {
        return None;
    }
    let fraction = fraction_and_zone.get(..digit_count)?;
    let millis = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    Some((millis, fraction_and_zone.get(digit_count..)?))
}

/// `Z` gives 0; `+01:30` gives 90; `-05:00` gives -300.
fn parse_zone(zone: &str) -> Option<i64> {
    if zone == "Z" || zone == "z" {
        return Some(0);
    }
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if zone.len() != 6 || zone.as_bytes().get(3) != Some(&b':') {
        return None;
    }
    let hours = digits(zone, 1, 2)?;
    let minutes = digits(zone, 4, 2)?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 60 + minutes))
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// well-known civil-date algorithm, valid for all years used here).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12; // March = 0 … February = 11
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_javascript_iso_strings() {
        assert_eq!(parse_iso8601_ms("1970-01-01T00:00:00.000Z"), Some(0));
        // 2020-03-10T04:40:43.718Z, checked with `date -u -d … +%s%3N`.
        assert_eq!(
            parse_iso8601_ms("2020-03-10T04:40:43.718Z"),
            Some(1_583_815_243_718)
        );
        assert_eq!(
            parse_iso8601_ms("2000-02-29T23:59:59Z"),
            Some(951_868_799_000)
        );
    }

    #[test]
    fn applies_offsets_and_fraction_precision() {
        assert_eq!(
            parse_iso8601_ms("2020-03-10T06:10:43.718+01:30"),
            parse_iso8601_ms("2020-03-10T04:40:43.718Z")
        );
        assert_eq!(parse_iso8601_ms("1970-01-01T00:00:00.5Z"), Some(500));
        assert_eq!(parse_iso8601_ms("1970-01-01T00:00:00.123456Z"), Some(123));
        assert_eq!(
            parse_iso8601_ms("1969-12-31T19:00:00-05:00"),
            Some(0),
            "negative offsets move forward to UTC"
        );
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "2020-03-10",
            "2020-03-10T04:40:43",
            "2020-13-10T04:40:43Z",
            "2021-02-29T00:00:00Z",
            "2020-03-10T24:00:00Z",
            "2020-03-10T04:40:43.Z",
            "2020-03-10T04:40:43+0100",
            "2020/03/10T04:40:43Z",
            "２０２０-03-10T04:40:43Z",
            "+020-03-10T04:40:43Z",
        ] {
            assert_eq!(parse_iso8601_ms(bad), None, "{bad:?}");
        }
    }
}
