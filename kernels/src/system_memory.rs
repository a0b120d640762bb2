//! The machine's memory as the system reports it (`/proc/meminfo` on Linux; `None`
//! elsewhere): what sizes the workspace's default recording limit and lets a caller
//! refuse a run that cannot fit before it allocates.

/// Physical memory in bytes (`MemTotal`), read once.
pub fn total() -> Option<usize> {
    static TOTAL: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *TOTAL.get_or_init(|| field("MemTotal:"))
}

/// Memory available to a new allocation without swapping, in bytes (`MemAvailable`),
/// read afresh on each call: it changes as other processes run.
pub fn available() -> Option<usize> {
    field("MemAvailable:")
}

/// One `/proc/meminfo` line's value ("Name:   123 kB"), in bytes.
fn field(name: &str) -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|line| line.starts_with(name))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn available_is_at_most_total_where_the_system_reports_both() {
        if let (Some(total), Some(available)) = (super::total(), super::available()) {
            assert!(0 < available && available <= total, "{available} of {total}");
        }
    }
}
