//! Process CPU time and resident memory, measured as the peers measure them (Python's
//! `time.process_time()`: CPU time of every thread of the process; `/usr/bin/time`'s maximum
//! resident set size).

/// CPU time used by the whole process so far (all threads, user + system), s;
/// `None` where the clock is not available.
pub fn process_cpu_s() -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call, and
    // CLOCK_PROCESS_CPUTIME_ID is a clock id every Linux kernel supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    (rc == 0).then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
}

/// A field of `/proc/self/status` in KiB (`VmHWM` peak resident set, `VmRSS` current).
fn status_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Peak resident set size of the process so far, KiB (`None` off Linux).
pub fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM")
}

/// Current resident set size, KiB (`None` off Linux).
pub fn rss_kib() -> Option<u64> {
    status_kib("VmRSS")
}
