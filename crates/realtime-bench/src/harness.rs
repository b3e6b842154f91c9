//! A small timing harness: every candidate of a comparison runs in the same process, round by
//! round in turn (ours, then each baseline, then ours again...), so drift in clock speed or
//! machine load hits them alike; the report gives each one's median and its ratio to the
//! reference.
//!
//! `cargo bench` passes `--bench`; without it (`cargo test --benches`, say) a bench runs one
//! quick round of everything, so that it is exercised without being timed. A further argument
//! filters the comparisons by name.

use std::time::{Duration, Instant};

/// How a bench binary was asked to run.
#[derive(Clone, Debug)]
pub struct Mode {
    /// Timed (`--bench`), or one quick untimed round.
    pub timed: bool,
    /// Only comparisons whose title contains this.
    pub filter: Option<String>,
}

impl Mode {
    /// From the command line.
    pub fn from_args() -> Self {
        let mut timed = false;
        let mut filter = None;
        for arg in std::env::args().skip(1) {
            if arg == "--bench" {
                timed = true;
            } else if !arg.starts_with('-') {
                filter = Some(arg);
            }
        }
        Self { timed, filter }
    }

    /// Whether a comparison of this title should run. A filter `TITLE/LABEL` also keeps only
    /// the candidates whose label contains `LABEL` (to profile one of them).
    pub fn wants(&self, title: &str) -> bool {
        self.filter
            .as_deref()
            .is_none_or(|filter| title.contains(filter.split('/').next().unwrap_or(filter)))
    }

    /// Whether a candidate of this label should run (see [`wants`](Self::wants)).
    pub fn wants_label(&self, label: &str) -> bool {
        match self
            .filter
            .as_deref()
            .and_then(|filter| filter.split_once('/'))
        {
            Some((_, wanted)) => label.contains(wanted),
            None => true,
        }
    }

    /// How many rounds to run: `timed` when timed, one otherwise.
    ///
    /// `REALTIME_BENCH_ROUNDS` overrides the count (more rounds steady the fastest figure on a
    /// shared machine).
    pub fn rounds(&self, timed: usize) -> usize {
        if !self.timed {
            return 1;
        }
        std::env::var("REALTIME_BENCH_ROUNDS")
            .ok()
            .and_then(|rounds| rounds.parse().ok())
            .unwrap_or(timed)
    }
}

/// One thing to time. `run` does one pass (its own setup included) and returns the time of the
/// part that counts.
pub struct Candidate<'a> {
    /// Its name in the report.
    pub label: &'static str,
    /// One pass.
    pub run: Box<dyn FnMut() -> Duration + 'a>,
}

impl std::fmt::Debug for Candidate<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl<'a> Candidate<'a> {
    /// A candidate.
    pub fn new(label: &'static str, run: impl FnMut() -> Duration + 'a) -> Self {
        Self {
            label,
            run: Box::new(run),
        }
    }

    /// A candidate whose whole pass is timed.
    pub fn timed(label: &'static str, mut pass: impl FnMut() + 'a) -> Self {
        Self::new(label, move || {
            let start = Instant::now();
            pass();
            start.elapsed()
        })
    }
}

/// The result of one candidate.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Its name.
    pub label: &'static str,
    /// The median pass.
    pub median: Duration,
    /// The fastest pass.
    pub min: Duration,
}

/// Runs `rounds` rounds of every candidate in turn (after one warm-up round) and prints each
/// one's median, its throughput for `bytes` bytes and `items` items per pass, and its ratio to
/// the first candidate whose label is `reference`. Returns the measurements.
pub fn compare(
    mode: &Mode,
    title: &str,
    bytes: usize,
    items: usize,
    rounds: usize,
    reference: &str,
    mut candidates: Vec<Candidate<'_>>,
) -> Vec<Measured> {
    candidates.retain(|candidate| mode.wants_label(candidate.label));
    for candidate in &mut candidates {
        (candidate.run)();
    }
    let mut times = vec![Vec::with_capacity(rounds); candidates.len()];
    for _ in 0..rounds {
        for (candidate, times) in candidates.iter_mut().zip(&mut times) {
            times.push((candidate.run)());
        }
    }
    let measured: Vec<Measured> = candidates
        .iter()
        .zip(&mut times)
        .map(|(candidate, times)| {
            times.sort();
            Measured {
                label: candidate.label,
                median: times[times.len() / 2],
                min: times[0],
            }
        })
        .collect();
    let reference = measured
        .iter()
        .find(|m| m.label == reference)
        .map(|m| m.median);
    println!("\n## {title}  ({rounds} rounds; median, [fastest])");
    for m in &measured {
        let seconds = m.median.as_secs_f64().max(1e-12);
        let rate = if bytes > 0 {
            format!("{:8.0} MB/s", bytes as f64 / seconds / 1e6)
        } else {
            String::new()
        };
        println!(
            "  {:<34} {:>12} [{:>10}]  {:>9.1} ns/item {}  {}",
            m.label,
            format!("{:.3?}", m.median),
            format!("{:.3?}", m.min),
            seconds * 1e9 / items.max(1) as f64,
            rate,
            ratio(m.median, reference)
        );
    }
    measured
}

/// A candidate's ratio to the baseline, or why there is none (a filter left the baseline out).
fn ratio(median: Duration, reference: Option<Duration>) -> String {
    match reference {
        Some(reference) if !reference.is_zero() => {
            format!(
                "ratio {:.2}",
                median.as_secs_f64() / reference.as_secs_f64()
            )
        }
        _ => "(baseline not run)".to_owned(),
    }
}

/// The machine, for the report's header: CPU model, cores, kernel.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {kernel}")
}

/// This process's resident memory in KiB (`VmRSS` of `/proc/self/status`).
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) this process used so far, from `/proc/self/stat` (clock ticks of
/// 10 ms, the Linux userspace tick).
pub fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_needs_the_baseline() {
        let ms = Duration::from_millis;
        assert_eq!(ratio(ms(3), Some(ms(2))), "ratio 1.50");
        // A filter that runs one candidate alone used to print its nanoseconds as a ratio.
        assert_eq!(ratio(ms(3), None), "(baseline not run)");
        assert_eq!(ratio(ms(3), Some(Duration::ZERO)), "(baseline not run)");
    }
}
