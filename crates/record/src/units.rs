//! Numbers with their units, formatted one way for every output (terminal, report, probe
//! table, error messages): bytes in binary units, durations, rates, shares and counts. Each
//! function's name says what it takes (`ns`, `fraction`, `count`, `per_s`); the unit it prints
//! is in its name or in the column header that shows it.

/// Bytes with a binary unit: `512 B`, `32 KiB`, `1.5 KiB`, `3.8 MiB`, `4 TiB`: whole multiples
/// of a unit without decimals, others with one.
pub fn bytes(count_bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = 0;
    while unit + 1 < UNITS.len() && count_bytes >> (10 * (unit + 1)) > 0 {
        unit += 1;
    }
    if unit == 0 {
        return format!("{count_bytes} B");
    }
    let scale = 1u64 << (10 * unit);
    if count_bytes.is_multiple_of(scale) {
        format!("{} {}", count_bytes / scale, UNITS[unit])
    } else {
        format!("{:.1} {}", count_bytes as f64 / scale as f64, UNITS[unit])
    }
}

/// Nanoseconds as milliseconds with 3 decimals (`1.235`), no unit: the header names it.
pub fn ms_of_ns(ns: f64) -> String {
    format!("{:.3}", ns / 1e6)
}

/// A fraction as a percentage with 1 decimal: `12.3%`.
pub fn pct(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// A count in millions with 2 decimals (`25.56`), no unit: the header names it.
pub fn millions(count: u64) -> String {
    format!("{:.2}", count as f64 / 1e6)
}

/// A count with 3 significant digits and an SI suffix: 546, 22.7k, 25.6M, 4.11G.
pub fn si(count: u64) -> String {
    let v = count as f64;
    let (scaled, suffix) = match count {
        0..1_000 => return count.to_string(),
        1_000..1_000_000 => (v / 1e3, "k"),
        1_000_000..1_000_000_000 => (v / 1e6, "M"),
        _ => (v / 1e9, "G"),
    };
    let decimals = if scaled >= 100.0 {
        0
    } else if scaled >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.decimals$}{suffix}")
}

/// A rate per second in giga units per second with 2 decimals (GMAC/s from MAC/s, GB/s from
/// bytes/s), or `n/a`.
pub fn giga_of_per_s(per_s: Option<f64>) -> String {
    per_s.map_or("n/a".into(), |x| format!("{:.2}", x / 1e9))
}

/// Nanoseconds as microseconds with 2 decimals, or `n/a`.
pub fn us_of_ns(ns: Option<f64>) -> String {
    ns.map_or("n/a".into(), |x| format!("{:.2}", x / 1e3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_printed_one_way() {
        let cases = [
            (0, "0 B"),
            (512, "512 B"),
            (1023, "1023 B"),
            (1024, "1 KiB"),
            (1536, "1.5 KiB"),
            (32 << 10, "32 KiB"),
            (128 << 20, "128 MiB"),
            (1_000_000, "976.6 KiB"),
            (120_000_000_000, "111.8 GiB"),
            (4 << 40, "4 TiB"),
            (u64::MAX, "16384.0 PiB"),
        ];
        for (count, text) in cases {
            assert_eq!(bytes(count), text, "{count} bytes");
        }
    }

    #[test]
    fn numbers_carry_their_units() {
        assert_eq!(ms_of_ns(1_234_567.0), "1.235");
        assert_eq!(pct(0.1234), "12.3%");
        assert_eq!(millions(25_557_032), "25.56");
        assert_eq!(si(546), "546");
        assert_eq!(si(22_688), "22.7k");
        assert_eq!(si(25_557_032), "25.6M");
        assert_eq!(si(4_110_000_000), "4.11G");
        assert_eq!(si(999_999), "1000k"); // rounding at a suffix boundary keeps the lower suffix
        assert_eq!(giga_of_per_s(Some(2.5e9)), "2.50");
        assert_eq!(giga_of_per_s(None), "n/a");
        assert_eq!(us_of_ns(Some(1500.0)), "1.50");
    }
}
