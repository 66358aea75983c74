//! Human-readable sizes in the seed's style (`120MB`, `2.5GB`).

/// Formats `bytes` with binary multiples and the seed's unit names: one
/// decimal below 10 (`2.5GB`), none from 10 up (`120MB`), a trailing `.0`
/// dropped (`8KB`).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    // Round first, so 1023.97 KB is shown as 1MB rather than 1024KB.
    let mut rounded = if value < 10.0 {
        (value * 10.0).round() / 10.0
    } else {
        value.round()
    };
    if rounded >= 1024.0 && unit + 1 < UNITS.len() {
        rounded = 1.0;
        unit += 1;
    }
    if rounded.fract() == 0.0 {
        format!("{}{}", rounded as u64, UNITS[unit])
    } else {
        format!("{rounded:.1}{}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn seed_style() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(8192), "8KB");
        assert_eq!(human_size(1536), "1.5KB");
        assert_eq!(human_size(120 * 1024 * 1024), "120MB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024 / 2), "2.5GB");
        assert_eq!(human_size(1024 * 1024 - 1), "1MB");
        assert_eq!(human_size(u64::MAX), "16384PB");
    }
}
