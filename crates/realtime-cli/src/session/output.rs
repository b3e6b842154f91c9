//! The pretty view: one line per thing that happened, with the time since the command started
//! and a coloured tag; the assistant's text streams on its line as it arrives.
//!
//! ```text
//!   0.41s  speech     started at 300 ms of input audio
//!   2.37s  you        Hello, can you hear me?
//!   2.38s  assistant  Yes, I can hear you.
//! ```
//!
//! Colours only when standard output is a terminal and `NO_COLOR` is unset (`anstream` decides,
//! and strips the styles otherwise). With `--json`, standard output carries the raw events
//! instead, and only what the user must know (notes, files written, errors) goes to standard
//! error.
//!
//! A progress bar (on standard error) may be active: lines are printed around it, so the bar
//! stays at the bottom.

use std::collections::HashSet;
use std::fmt::Display;
use std::io::Write;
use std::time::Instant;

use anstyle::{AnsiColor, Style};
use indicatif::ProgressBar;

/// What a line is about: its label and colour.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) struct Tag {
    name: &'static str,
    style: Style,
}

const fn colored(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(anstyle::Color::Ansi(color)))
}

impl Tag {
    pub(crate) const SESSION: Self = Self::new("session", colored(AnsiColor::Blue));
    pub(crate) const SPEECH: Self = Self::new("speech", colored(AnsiColor::Yellow));
    pub(crate) const INPUT: Self = Self::new("input", colored(AnsiColor::Yellow));
    pub(crate) const YOU: Self = Self::new("you", colored(AnsiColor::Green).bold());
    pub(crate) const ASSISTANT: Self = Self::new("assistant", colored(AnsiColor::Cyan).bold());
    pub(crate) const TRANSCRIPT: Self = Self::new("transcript", colored(AnsiColor::Green).bold());
    pub(crate) const FUNCTION: Self = Self::new("function", colored(AnsiColor::Magenta));
    pub(crate) const RESPONSE: Self = Self::new("response", colored(AnsiColor::Blue));
    pub(crate) const INTERRUPT: Self = Self::new("interrupt", colored(AnsiColor::Magenta).bold());
    pub(crate) const AUDIO: Self = Self::new("audio", colored(AnsiColor::Blue));
    pub(crate) const ERROR: Self = Self::new("error", colored(AnsiColor::Red).bold());
    pub(crate) const WARNING: Self = Self::new("warning", colored(AnsiColor::Yellow).bold());
    pub(crate) const NOTE: Self = Self::new("note", Style::new().dimmed());
    pub(crate) const DONE: Self = Self::new("done", colored(AnsiColor::Green).bold());
    pub(crate) const STATS: Self = Self::new("stats", Style::new().dimmed());

    const fn new(name: &'static str, style: Style) -> Self {
        Self { name, style }
    }
}

/// Where the human-readable output goes, and its state.
#[derive(Debug)]
pub(crate) struct Output {
    start: Instant,
    json: bool,
    /// The key of the line being streamed (an item and part), if one is open.
    streaming: Option<String>,
    /// Keys that streamed something and are not finished (a later piece after another line
    /// starts a continuation line).
    shown: HashSet<String>,
    /// Keys whose pieces were held back while another line streamed.
    waiting: HashSet<String>,
    /// Lines waiting for the open stream to end, with their prefix (timestamp of when they
    /// happened); see [`line_after_stream`](Self::line_after_stream).
    deferred: Vec<String>,
    bar: Option<ProgressBar>,
}

impl Output {
    /// The pretty view (`json` false), or raw events on standard output (`json` true).
    pub(crate) fn new(json: bool) -> Self {
        Self {
            start: Instant::now(),
            json,
            streaming: None,
            shown: HashSet::new(),
            waiting: HashSet::new(),
            deferred: Vec::new(),
            bar: None,
        }
    }

    /// Whether standard output carries raw events.
    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    /// Seconds since the command started.
    pub(crate) fn elapsed_secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// One event line of the pretty view (nothing with `--json`).
    pub(crate) fn line(&mut self, tag: Tag, text: impl Display) {
        if self.json {
            return;
        }
        self.end_stream();
        let prefix = self.prefix(tag);
        self.write(|out| writeln!(out, "{prefix}{text}"));
    }

    /// A line that can wait: printed now, or when the line being streamed ends, so that it
    /// does not cut the assistant's sentence in two.
    pub(crate) fn line_after_stream(&mut self, tag: Tag, text: impl Display) {
        if self.json {
            return;
        }
        if self.streaming.is_some() {
            let prefix = self.prefix(tag);
            self.deferred.push(format!("{prefix}{text}"));
        } else {
            self.line(tag, text);
        }
    }

    /// A line the user must see even with `--json` (where it goes to standard error): files
    /// written, notes, the summary.
    pub(crate) fn tell(&mut self, tag: Tag, text: impl Display) {
        if self.json {
            eprintln!("{}: {text}", tag.name);
        } else {
            self.line(tag, text);
        }
    }

    /// A section heading of the demo.
    pub(crate) fn heading(&mut self, text: impl Display) {
        if self.json {
            eprintln!("== {text}");
            return;
        }
        self.end_stream();
        let style = Style::new().bold().underline();
        self.write(|out| writeln!(out, "\n{style}{text}{style:#}"));
    }

    /// A plain line, without timestamp or tag (a summary row).
    pub(crate) fn plain(&mut self, text: impl Display) {
        if self.json {
            eprintln!("{text}");
            return;
        }
        self.end_stream();
        self.write(|out| writeln!(out, "{text}"));
    }

    /// Streams a piece of text for `key` (an item and part) on its line. One line streams at
    /// a time: while another key's line is open, this key's pieces are not shown, and
    /// [`finish_stream`](Self::finish_stream) asks for its whole text instead (transcripts of
    /// several turns can arrive interleaved).
    pub(crate) fn stream(&mut self, tag: Tag, key: &str, delta: &str) {
        if self.json || delta.is_empty() {
            return;
        }
        if self.streaming.as_deref() == Some(key) {
            self.write(|out| write!(out, "{delta}"));
            return;
        }
        if self.streaming.is_some() || self.waiting.contains(key) {
            self.waiting.insert(key.to_owned());
            return;
        }
        let mut prefix = self.prefix(tag);
        if self.shown.contains(key) {
            // Another line cut this one: it goes on here.
            prefix.push('…');
        }
        self.write(|out| write!(out, "{prefix}{delta}"));
        self.streaming = Some(key.to_owned());
        self.shown.insert(key.to_owned());
    }

    /// Ends the streamed line of `key`. Returns true when its text was not all shown, and the
    /// caller should print it whole.
    pub(crate) fn finish_stream(&mut self, key: &str) -> bool {
        if self.streaming.as_deref() == Some(key) {
            self.streaming = None;
            self.write(|out| writeln!(out));
            self.flush_deferred();
        }
        let shown = self.shown.remove(key);
        let waiting = self.waiting.remove(key);
        waiting || !shown
    }

    /// A raw event line (with `--json`).
    pub(crate) fn raw(&self, line: &str) {
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }

    /// Shows a progress bar until [`clear_bar`](Self::clear_bar); lines print above it.
    pub(crate) fn set_bar(&mut self, bar: ProgressBar) {
        self.bar = Some(bar);
    }

    /// Removes the progress bar, if any.
    pub(crate) fn clear_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn end_stream(&mut self) {
        if self.streaming.take().is_some() {
            self.write(|out| writeln!(out));
            self.flush_deferred();
        }
    }

    fn flush_deferred(&mut self) {
        for line in std::mem::take(&mut self.deferred) {
            self.write(|out| writeln!(out, "{line}"));
        }
    }

    fn prefix(&self, tag: Tag) -> String {
        let dim = Style::new().dimmed();
        let seconds = self.elapsed_secs();
        let style = tag.style;
        format!(
            "{dim}{seconds:>7.2}s{dim:#}  {style}{:<10}{style:#} ",
            tag.name
        )
    }

    fn write(&self, print: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
        let emit = || {
            let mut out = anstream::stdout().lock();
            // A closed standard output (`| head`) is the reader's choice: stop writing quietly.
            let _ = print(&mut out);
            let _ = out.flush();
        };
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.suspend(emit),
            _ => emit(),
        }
    }
}
