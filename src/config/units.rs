//! Text units in the config: durations (`30m`, `7d`), sizes (`4GiB`) and
//! identifiers (names that become table names, columns or SQL parameters).

/// Parse durations such as `30m`, `7d`, `90s`, `2h`, `1w` into seconds.
pub fn parse_duration(s: &str) -> std::result::Result<i64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30m, 7d, 90s"))?;
    let mult = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "`{s}` is not a duration like 30m, 7d, 90s (units s, m, h, d, w)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too long a duration"))
}

/// [`parse_duration`] for settings where zero makes no sense (a timeout, a
/// window, a gap): `0s` is refused.
pub fn parse_positive_duration(s: &str) -> std::result::Result<i64, String> {
    match parse_duration(s)? {
        0 => Err(format!("`{s}` must be longer than 0s")),
        n => Ok(n),
    }
}

/// Parse sizes such as `4GiB`, `512MB`, `1048576` into bytes.
pub fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 4GiB or 512MB"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1e12,
        "tib" => 1024f64.powi(4),
        _ => return Err(format!("`{s}` is not a size like 4GiB or 512MB")),
    };
    Ok((n * mult) as usize)
}

/// Lowercase letters, digits and `_`, not starting with a digit.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("-5m").is_err());
        assert_eq!(parse_duration("0s"), Ok(0));
        assert!(parse_positive_duration("0s").is_err());
        assert_eq!(parse_positive_duration("1s"), Ok(1));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn a_duration_that_overflows_is_refused() {
        // 2^57 weeks in seconds is past i64: it used to wrap to 0
        let err = parse_duration("144115188075855872w").unwrap_err();
        assert!(err.contains("too long"), "{err}");
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("add_to_cart2"));
        assert!(!is_identifier("2x"));
        assert!(!is_identifier("Add"));
        assert!(!is_identifier(""));
    }
}
