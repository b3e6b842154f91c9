//! A small timing harness: every candidate of a comparison runs in the same process, round by
//! round in turn (ours, then each baseline, then ours again...), so drift in clock speed or
//! machine load hits them alike; the report gives each one's median and its ratio to the
//! reference.
//!
//! `cargo bench` passes `--bench`; without it (`cargo test --benches`, say) a bench runs one
//! quick round of everything, so that it is exercised without being timed. A further argument
//! filters the comparisons by name.
//!
//! Passes are timed on the wall clock, or, with `REALTIME_BENCH_CLOCK=cpu`, on the CPU time of
//! the measured side (see [`Stamp`]): on a machine shared with other work, the wall clock
//! counts the time the bench waited for a core, and the CPU time does not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a pass is timed with.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Clock {
    /// Elapsed time (the default).
    Wall,
    /// CPU time of this process (user and system), less what threads marked as not measured
    /// used (see [`charge_unmeasured`]): `REALTIME_BENCH_CLOCK=cpu`.
    Cpu,
}

impl Clock {
    /// The clock `REALTIME_BENCH_CLOCK` names (`wall` or `cpu`); the wall clock by default.
    /// Read once: a stamp costs no look-up of the environment.
    pub fn from_env() -> Self {
        static CLOCK: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();
        *CLOCK.get_or_init(|| match std::env::var("REALTIME_BENCH_CLOCK").as_deref() {
            Ok("cpu") => Self::Cpu,
            _ => Self::Wall,
        })
    }
}

/// CPU time used by threads that are not measured (the benches' servers), in nanoseconds.
static UNMEASURED_NS: AtomicU64 = AtomicU64::new(0);

/// The CPU time of the calling thread.
pub fn thread_cpu() -> Duration {
    cpu(rustix::time::ClockId::ThreadCPUTime)
}

fn cpu(clock: rustix::time::ClockId) -> Duration {
    let time = rustix::time::clock_gettime(clock);
    Duration::new(
        u64::try_from(time.tv_sec).unwrap_or(0),
        u32::try_from(time.tv_nsec).unwrap_or(0),
    )
}

/// Marks the CPU time the calling thread used since `*since` (a [`thread_cpu`] reading) as not
/// measured, and moves `*since` to now. A server thread in the benches' process calls it as it
/// goes, so that [`Clock::Cpu`] counts the client side only.
pub fn charge_unmeasured(since: &mut Duration) {
    let now = thread_cpu();
    let used = now.saturating_sub(*since);
    UNMEASURED_NS.fetch_add(
        u64::try_from(used.as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    *since = now;
}

/// A reading of the bench's clock ([`Clock::from_env`]), to time a pass from.
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    clock: Clock,
    wall: Instant,
    cpu: Duration,
}

impl Stamp {
    /// Now.
    pub fn now() -> Self {
        let clock = Clock::from_env();
        let cpu = match clock {
            Clock::Wall => Duration::ZERO,
            Clock::Cpu => measured_cpu(),
        };
        Self {
            clock,
            wall: Instant::now(),
            cpu,
        }
    }

    /// The time since this reading, on its clock.
    pub fn elapsed(&self) -> Duration {
        match self.clock {
            Clock::Wall => self.wall.elapsed(),
            Clock::Cpu => measured_cpu().saturating_sub(self.cpu),
        }
    }
}

/// The process's CPU time less the unmeasured threads'.
fn measured_cpu() -> Duration {
    let unmeasured = Duration::from_nanos(UNMEASURED_NS.load(Ordering::Relaxed));
    cpu(rustix::time::ClockId::ProcessCPUTime).saturating_sub(unmeasured)
}

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
        Self::from_list(std::env::args().skip(1))
    }

    /// From these arguments: `--bench`, a filter, and a bench's own `--name value` options,
    /// whose values are not filters.
    pub fn from_list(args: impl IntoIterator<Item = String>) -> Self {
        let mut timed = false;
        let mut filter = None;
        let mut option_value = false;
        for arg in args {
            if arg == "--bench" {
                timed = true;
            } else if arg.starts_with("--") {
                option_value = true;
                continue;
            } else if !arg.starts_with('-') && !option_value {
                filter = Some(arg);
            }
            option_value = false;
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

    /// Whether a candidate of this label should run (see [`wants`](Self::wants)); a `LABEL`
    /// that starts with `=` must be the whole label (`ours: decode + apply` is also part of
    /// `ours: decode + apply, audio retention None`).
    pub fn wants_label(&self, label: &str) -> bool {
        match self
            .filter
            .as_deref()
            .and_then(|filter| filter.split_once('/'))
        {
            Some((_, wanted)) => match wanted.strip_prefix('=') {
                Some(whole) => label == whole,
                None => label.contains(wanted),
            },
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
/// part that counts, measured with a [`Stamp`].
pub struct Candidate<'a> {
    /// Its name in the report.
    pub label: &'static str,
    /// One pass.
    pub run: Box<dyn FnMut() -> Duration + 'a>,
    /// The label of the candidate its ratio is taken against, when it is not the comparison's
    /// (a candidate that does less work than the reference is compared with a baseline that
    /// does as little).
    pub baseline: Option<&'static str>,
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
            baseline: None,
        }
    }

    /// The same, its ratio taken against the candidate labelled `baseline`.
    #[must_use]
    pub fn against(mut self, baseline: &'static str) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// A candidate whose whole pass is timed.
    pub fn timed(label: &'static str, mut pass: impl FnMut() + 'a) -> Self {
        Self::new(label, move || {
            let start = Stamp::now();
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
    /// The label of its own baseline, if it has one ([`Candidate::against`]).
    pub baseline: Option<&'static str>,
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
                baseline: candidate.baseline,
            }
        })
        .collect();
    let baseline = |label: &str| {
        let found = measured.iter().find(|m| m.label == label);
        (found.map(|m| m.median), found.map(|m| m.min))
    };
    let clock = match Clock::from_env() {
        Clock::Wall => "wall clock",
        Clock::Cpu => "CPU time",
    };
    println!("\n## {title}  ({rounds} rounds, {clock}; median, [fastest])");
    for m in &measured {
        let (reference, fastest_reference) = baseline(m.baseline.unwrap_or(reference));
        let against = m
            .baseline
            .map_or_else(String::new, |label| format!(" (to {label})"));
        let seconds = m.median.as_secs_f64().max(1e-12);
        let rate = if bytes > 0 {
            format!("{:8.0} MB/s", bytes as f64 / seconds / 1e6)
        } else {
            String::new()
        };
        println!(
            "  {:<34} {:>12} [{:>10}]  {:>9.1} ns/item {}  {} [fastest: {}]{against}",
            m.label,
            format!("{:.3?}", m.median),
            format!("{:.3?}", m.min),
            seconds * 1e9 / items.max(1) as f64,
            rate,
            ratio(m.median, reference),
            ratio(m.min, fastest_reference)
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

/// The sessions' read size the adapter and scale benches set: `REALTIME_BENCH_READ_BUFFER`
/// (bytes); `None` (the library's default, see `ConnectOptions::read_buffer_bytes`) when unset.
pub fn read_buffer_bytes() -> Option<usize> {
    let bytes = std::env::var("REALTIME_BENCH_READ_BUFFER")
        .ok()
        .filter(|bytes| !bytes.is_empty())?;
    Some(
        bytes
            .parse()
            .unwrap_or_else(|_| panic!("REALTIME_BENCH_READ_BUFFER={bytes:?}: not a number")),
    )
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
    fn option_values_are_not_filters() {
        let args = |list: &[&str]| Mode::from_list(list.iter().map(|s| (*s).to_owned()));
        // The scale bench's options: their values used to be taken for a filter, which then
        // matched nothing and the bench measured nothing.
        let mode = args(&["--bench", "--sessions", "2000", "--streams", "10"]);
        assert!(mode.timed);
        assert_eq!(mode.filter, None);
        let mode = args(&["--bench", "voice (GA)"]);
        assert_eq!(mode.filter.as_deref(), Some("voice (GA)"));
        let mode = args(&["--seconds", "3", "idle"]);
        assert!(!mode.timed);
        assert_eq!(mode.filter.as_deref(), Some("idle"));
    }

    #[test]
    fn a_label_filter_matches_part_or_whole() {
        let mode = |filter: &str| Mode {
            timed: true,
            filter: Some(filter.to_owned()),
        };
        let long = "ours: decode + apply, audio retention None";
        assert!(mode("voice/ours: decode + apply").wants_label(long));
        assert!(!mode("voice/=ours: decode + apply").wants_label(long));
        assert!(mode("voice/=ours: decode + apply").wants_label("ours: decode + apply"));
        assert!(mode("voice").wants_label(long));
    }

    #[test]
    fn a_ratio_needs_the_baseline() {
        let ms = Duration::from_millis;
        assert_eq!(ratio(ms(3), Some(ms(2))), "ratio 1.50");
        // A filter that runs one candidate alone used to print its nanoseconds as a ratio.
        assert_eq!(ratio(ms(3), None), "(baseline not run)");
        assert_eq!(ratio(ms(3), Some(Duration::ZERO)), "(baseline not run)");
    }
}
