//! Which lines of a plain task log Treeherder keeps as the job's error lines
//! (`text_log_errors`), with the line numbers and texts it stores: the rules
//! of its log parser, re-implemented from the facts of its source.
//!
//! Sources (mozilla/treeherder):
//! - `treeherder/log_parser/artifactbuildercollection.py`,
//!   `ArtifactBuilderCollection.parse`: the log is read with requests'
//!   `iter_lines()` (`bytes.splitlines()`: a line ends at `\n`, `\r\n` or a
//!   lone `\r`; a last line without an end still counts), each line decoded
//!   as UTF-8 with `errors="replace"`.
//! - `treeherder/log_parser/artifactbuilders.py`, `ArtifactBuilderBase`:
//!   line numbers start at 0 and count every line; each line is cut to its
//!   first `MAX_LINE_LENGTH` (500) characters unless it holds
//!   `PERFHERDER_DATA`.
//! - `treeherder/log_parser/parsers.py`, `ErrorParser.parse_line` and
//!   `is_error_line`: the cap (`settings.MAX_ERROR_LINES`, 40, in
//!   `treeherder/config/settings.py`), the Taskcluster prefix handling, the
//!   exclusions, the mozharness prefix, the search terms and patterns, and
//!   the rule that a line equal to the last kept one is not kept again.
//! - `treeherder/etl/artifact.py`, `store_text_log_summary_artifact`, and
//!   `treeherder/etl/text.py`, `astral_filter`: characters outside the Basic
//!   Multilingual Plane are stored as `<U+XXXXXX>`.
//!
//! Python's `\d` also matches non-ASCII decimal digits; here digits are
//! ASCII (timestamps and line numbers in task logs are).

#![warn(missing_docs)]

use super::failure_types::ErrorLine;
use memchr::memmem::Finder;
use std::sync::OnceLock;

/// `settings.MAX_ERROR_LINES`: Treeherder keeps at most this many error
/// lines per log and ignores every line after the last one it keeps.
pub const MAX_ERROR_LINES: usize = 40;
/// `ArtifactBuilderBase.MAX_LINE_LENGTH`: lines are cut to this many
/// characters (Unicode scalar values, as Python counts them) before parsing.
pub(crate) const MAX_LINE_CHARS: usize = 500;

/// `ErrorParser.RE_EXCLUDE_1_SEARCH`: a line holding any of these is not an
/// error, whatever else it holds (anchor offsets as in [`NeedleSet::new`]).
const EXCLUDE_1_SEARCH: &[(&str, usize)] = &[
    ("TEST-INFO ", 4),
    ("TEST-PASS ", 4),
    (
        "A content process crashed and MOZ_CRASHREPORTER_SHUTDOWN is set, shutting down",
        30,
    ),
];

/// What every `ErrorParser.RE_ERR_SEARCH` pattern holds.
const ERR_SEARCH_ANCHORS: &[(&str, usize)] = &[
    (" error(", 5),
    (": error:", 6),
    (" error ", 2),
    ("ERROR ", 1),
    ("mozmake.", 2),
];

/// `ErrorParser.IN_SEARCH_TERMS`: a line holding any of these is an error.
const IN_SEARCH_TERMS: &[(&str, usize)] = &[
    ("TEST-UNEXPECTED-", 4),
    ("fatal error", 7),
    ("FATAL ERROR", 7),
    ("Hit MOZ_CRASH", 6),
    ("REFTEST ERROR", 9),
    ("PROCESS-CRASH", 7),
    ("Assertion fail", 0),
    ("###!!! ABORT:", 0),
    ("SUMMARY: AddressSanitizer", 6),
    ("SUMMARY: ThreadSanitizer", 6),
    ("SUMMARY: UndefinedBehaviorSanitizer", 6),
    ("ThreadSanitizer: nested bug", 0),
    ("Automation Error:", 12),
    ("command timed out:", 16),
    ("wget: unable ", 0),
    ("bash.exe: *** ", 10),
    ("Unsuccessful task run with exit code: 137", 0),
    ("YOU ARE LEAKING THE WORLD", 11),
];

/// Byte strings of which every error line holds at least one (each rule
/// above and below needs one of them): lines without any are passed over
/// without decoding. `rror`/`RROR` stand for every `error`, `Error` and
/// `ERROR` rule, `***` for the make rules, `xception` for the exception
/// rules. Each comes with the offset of the two-byte anchor [`NeedleSet`]
/// looks for, chosen rare in ordinary log text.
const NECESSARY_NEEDLES: &[(&str, usize)] = &[
    ("rror", 0),
    ("RROR", 0),
    ("CRITICAL", 0),
    ("FATAL", 0),
    ("TEST-UNEXPECTED-", 4),
    ("MOZ_CRASH", 2),
    ("PROCESS-CRASH", 7),
    ("Assertion fail", 0),
    ("ABORT:", 4),
    ("SUMMARY: ", 6),
    ("Sanitizer: nested", 0),
    ("timed out:", 8),
    ("wget: unable ", 0),
    ("***", 0),
    ("exit code: 137", 1),
    ("LEAKING THE WORLD", 3),
    ("xception", 0),
    ("FAILED", 0),
    ("remoteFailed:", 5),
    ("rm: cannot ", 1),
    ("abort:", 4),
];

/// Anchors are two-byte values: a bit per possible value.
type AnchorBits = [u64; 1 << 10];

/// A set of byte strings, in numbered groups, searched in one pass. Every
/// needle has a two-byte anchor inside it, chosen rare in ordinary log
/// text: a 64 Ki-bit table says whether the two bytes at a position are an
/// anchor, and only then are the needles with that anchor compared whole.
/// Much cheaper per line than one substring search per needle.
#[derive(Debug)]
pub(crate) struct NeedleSet {
    anchors: Box<AnchorBits>,
    /// `(anchor, offset of the anchor in the needle, needle, group)`, by anchor.
    needles: Vec<(u16, usize, &'static [u8], u8)>,
}

impl NeedleSet {
    /// One group of needles: each byte string (at least two bytes) with the
    /// offset of its anchor (at most its length minus two).
    pub fn new(needles: &[(&'static str, usize)]) -> Self {
        Self::grouped(&[needles])
    }

    /// Needles in groups (at most 32), numbered by their place in `groups`.
    pub fn grouped(groups: &[&[(&'static str, usize)]]) -> Self {
        let mut set = NeedleSet {
            anchors: Box::new([0; 1 << 10]),
            needles: Vec::new(),
        };
        for (group, needles) in (0u8..32).zip(groups) {
            for (needle, offset) in needles.iter() {
                let bytes = needle.as_bytes();
                if let Some([a, b]) = bytes.get(*offset..offset + 2) {
                    let key = anchor(*a, *b);
                    set.anchors[usize::from(key >> 6)] |= 1 << (key & 63);
                    set.needles.push((key, *offset, bytes, group));
                }
            }
        }
        set.needles.sort_by_key(|(key, _, _, _)| *key);
        set
    }

    /// Whether `haystack` holds any of the needles.
    pub fn any_in(&self, haystack: &[u8]) -> bool {
        let mut found = false;
        self.for_each_match(haystack, |_, _| {
            found = true;
            false
        });
        found
    }

    /// A bit per group (`1 << group`) with a needle in `haystack`.
    pub fn groups_in(&self, haystack: &[u8]) -> u32 {
        let mut groups = 0;
        self.for_each_match(haystack, |group, _| {
            groups |= 1 << group;
            true
        });
        groups
    }

    /// Hand every occurrence (group, start..end) to `on_match`, in order of
    /// anchors, until it returns `false`.
    pub fn for_each_match(
        &self,
        haystack: &[u8],
        mut on_match: impl FnMut(u8, std::ops::Range<usize>) -> bool,
    ) {
        let bits: &AnchorBits = &self.anchors;
        let Some((&first, rest)) = haystack.split_first() else {
            return;
        };
        let mut previous = first;
        for (index, &byte) in rest.iter().enumerate() {
            let key = anchor(previous, byte);
            if bits[usize::from(key >> 6)] & (1 << (key & 63)) != 0
                && !self.needles_at(haystack, index, key, &mut on_match)
            {
                return;
            }
            previous = byte;
        }
    }

    /// Compare the needles anchored by `key` at `at`; `false` to stop.
    #[cold]
    fn needles_at(
        &self,
        haystack: &[u8],
        at: usize,
        key: u16,
        on_match: &mut impl FnMut(u8, std::ops::Range<usize>) -> bool,
    ) -> bool {
        let first = self.needles.partition_point(|(k, _, _, _)| *k < key);
        for (_, offset, needle, group) in self
            .needles
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(|(k, _, _, _)| *k == key)
        {
            let Some(start) = at.checked_sub(*offset) else {
                continue;
            };
            let found = haystack
                .get(start..)
                .is_some_and(|rest| rest.starts_with(needle));
            if found && !on_match(*group, start..start + needle.len()) {
                return false;
            }
        }
        true
    }
}

/// The searcher in `cell`, built for `needle` on first use (building one
/// costs more than searching a line).
fn cached_finder(
    cell: &'static OnceLock<Finder<'static>>,
    needle: &'static str,
) -> &'static Finder<'static> {
    cell.get_or_init(|| Finder::new(needle.as_bytes()))
}

/// The set in `cell`, built from `needles` on first use.
fn needle_set(
    cell: &'static OnceLock<NeedleSet>,
    needles: &[(&'static str, usize)],
) -> &'static NeedleSet {
    cell.get_or_init(|| NeedleSet::new(needles))
}

fn anchor(a: u8, b: u8) -> u16 {
    u16::from(a) << 8 | u16::from(b)
}

/// Whether `line` (raw bytes) can be an error line at all: a necessary
/// condition, checked before decoding.
pub fn may_be_error_line(line: &[u8]) -> bool {
    static NEEDLES: OnceLock<NeedleSet> = OnceLock::new();
    needle_set(&NEEDLES, NECESSARY_NEEDLES).any_in(line)
}

/// The needles of [`may_be_error_line`], for callers that search more at once.
pub(crate) fn error_line_needles() -> &'static [(&'static str, usize)] {
    NECESSARY_NEEDLES
}

/// Treeherder's error-line selection over one log, fed line by line in log
/// order ([`read_line`](Self::read_line)).
#[derive(Debug, Default)]
pub(crate) struct ErrorLineSelector {
    /// A line starting `[taskcluster ` was seen: from then on the worker's
    /// and run-task's `[<name> <time>] ` prefixes are removed
    /// (`ErrorParser.is_taskcluster`).
    is_taskcluster: bool,
    kept: Vec<ErrorLine>,
    /// The last kept line before the astral filter, for the repeat rule.
    last_kept: Option<String>,
}

impl ErrorLineSelector {
    /// A selector before the log's first line.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cap is reached: no later line can be kept.
    pub fn is_full(&self) -> bool {
        self.kept.len() >= MAX_ERROR_LINES
    }

    /// Read line `number` (0-based) of the log, its bytes without the line
    /// end; returns the line as stored when Treeherder keeps it.
    pub fn read_line(&mut self, number: u64, bytes: &[u8]) -> Option<&ErrorLine> {
        let candidate = !self.is_full() && may_be_error_line(bytes);
        self.read_gated_line(number, bytes, candidate)
    }

    /// [`read_line`](Self::read_line) for a caller that has already searched
    /// the line: `candidate` must be true whenever [`may_be_error_line`] is.
    pub fn read_gated_line(
        &mut self,
        number: u64,
        bytes: &[u8],
        candidate: bool,
    ) -> Option<&ErrorLine> {
        // `ErrorParser.parse_line`: nothing is looked at past the cap, not
        // even the Taskcluster marker.
        if self.is_full() {
            return None;
        }
        if bytes.starts_with(b"[taskcluster ") {
            self.is_taskcluster = true;
        }
        if !candidate {
            return None;
        }
        let decoded = String::from_utf8_lossy(bytes);
        let line = cut_to_max_chars(&decoded);
        let line = if self.is_taskcluster {
            strip_taskcluster_prefix(line)
        } else {
            line
        };
        if !is_error_line(line) {
            return None;
        }
        let stored = python_rstrip(line);
        if self.last_kept.as_deref() == Some(stored) {
            return None;
        }
        self.last_kept = Some(stored.to_string());
        self.kept
            .push(ErrorLine::new(number, astral_filter(stored)));
        self.kept.last()
    }

    /// The lines kept, in log order.
    pub fn into_kept(self) -> Vec<ErrorLine> {
        self.kept
    }
}

/// The error lines Treeherder keeps for a whole log held in memory.
pub fn treeherder_error_lines(log: &[u8]) -> Vec<ErrorLine> {
    let mut selector = ErrorLineSelector::new();
    for (number, line) in split_lines(log).enumerate() {
        if selector.is_full() {
            break;
        }
        selector.read_line(number as u64, line);
    }
    selector.into_kept()
}

/// `bytes.splitlines()`: lines end at `\n`, `\r\n` or `\r`; no empty line
/// after a final line end.
pub fn split_lines(log: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = log;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr2(b'\n', b'\r', rest) {
            Some(end) => {
                let line = rest.get(..end).unwrap_or_default();
                let after_crlf = rest.get(end..end + 2) == Some(b"\r\n");
                let skip = if after_crlf { 2 } else { 1 };
                rest = rest.get(end + skip..).unwrap_or_default();
                Some(line)
            }
            None => {
                let line = rest;
                rest = &[];
                Some(line)
            }
        }
    })
}

/// `line[:MAX_LINE_LENGTH]` in `ArtifactBuilderBase.parse_line`, which spares
/// lines carrying performance data.
fn cut_to_max_chars(line: &str) -> &str {
    static PERF: OnceLock<Finder<'static>> = OnceLock::new();
    if line.len() <= MAX_LINE_CHARS
        || cached_finder(&PERF, "PERFHERDER_DATA")
            .find(line.as_bytes())
            .is_some()
    {
        return line;
    }
    // Mostly ASCII: then characters are bytes.
    if line
        .as_bytes()
        .get(..MAX_LINE_CHARS)
        .is_some_and(<[u8]>::is_ascii)
    {
        return line.get(..MAX_LINE_CHARS).unwrap_or(line);
    }
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((end, _)) => line.get(..end).unwrap_or(line),
        None => line,
    }
}

/// `ErrorParser.RE_TASKCLUSTER_NORMAL_PREFIX`,
/// `^\[(?!taskcluster:)[^\]]*20\d{2}-[^\]]+\]\s`: a bracketed prefix holding
/// a `20NN-` year with at least one character after it, not a
/// `[taskcluster:…]` error marker, and one whitespace character after it.
pub fn strip_taskcluster_prefix(line: &str) -> &str {
    let Some(inside_and_rest) = line.strip_prefix('[') else {
        return line;
    };
    if inside_and_rest.starts_with("taskcluster:") {
        return line;
    }
    // Neither bracket part may hold `]`: the prefix ends at the first one.
    let Some(close) = inside_and_rest.find(']') else {
        return line;
    };
    let inside = inside_and_rest.get(..close).unwrap_or_default();
    if !has_year_with_more_after(inside) {
        return line;
    }
    let after = inside_and_rest.get(close + 1..).unwrap_or_default();
    match after.chars().next() {
        Some(c) if python_isspace(c) => after.get(c.len_utf8()..).unwrap_or_default(),
        _ => line,
    }
}

/// `[^\]]*20\d{2}-[^\]]+` over the bracket's content: some `20NN-` followed
/// by at least one more character.
fn has_year_with_more_after(inside: &str) -> bool {
    // The content is a few dozen bytes: a plain scan beats building a searcher.
    let bytes = inside.as_bytes();
    bytes.windows(5).enumerate().any(|(at, window)| {
        matches!(window, [b'2', b'0', d1, d2, b'-'] if d1.is_ascii_digit() && d2.is_ascii_digit())
            && bytes.len() > at + 5
    })
}

/// `ErrorParser.is_error_line`, on a line already cut and stripped of its
/// Taskcluster prefix.
pub fn is_error_line(line: &str) -> bool {
    // One pass over the line for the three needle lists: RE_EXCLUDE_1 on the
    // whole line; IN_SEARCH_TERMS and the RE_ERR_SEARCH anchors on the
    // trimmed line, the part of it after the mozharness prefix and before
    // the trailing whitespace.
    const EXCLUDE: u8 = 0;
    const TERM: u8 = 1;
    const SEARCH: u8 = 2;
    static NEEDLES: OnceLock<NeedleSet> = OnceLock::new();
    let needles = NEEDLES.get_or_init(|| {
        NeedleSet::grouped(&[EXCLUDE_1_SEARCH, IN_SEARCH_TERMS, ERR_SEARCH_ANCHORS])
    });
    let trimmed = python_rstrip(strip_mozharness_prefix(line));
    let trimmed_start = line.len() - strip_mozharness_prefix(line).len();
    let trimmed_span = trimmed_start..trimmed_start + trimmed.len();
    let mut found = 0u32;
    needles.for_each_match(line.as_bytes(), |group, at| {
        let counts =
            group == EXCLUDE || (trimmed_span.start <= at.start && at.end <= trimmed_span.end);
        if counts {
            found |= 1 << group;
        }
        found & (1 << EXCLUDE) == 0
    });
    // RE_EXCLUDE_1_SEARCH
    if found & (1 << EXCLUDE) != 0 {
        return false;
    }
    // RE_ERR_1_MATCH: `^\d+:\d+:\d+ +(?:ERROR|CRITICAL|FATAL) - `
    if let Some(rest) = after_clock(line) {
        let level_rest = ["ERROR", "CRITICAL", "FATAL"]
            .iter()
            .find_map(|level| rest.strip_prefix(level));
        if level_rest.is_some_and(|r| r.starts_with(" - ")) {
            return true;
        }
    }
    // Then the mozharness prefix removed and `.rstrip()`: RE_EXCLUDE_2.
    if is_excluded(trimmed) {
        return false;
    }
    found & (1 << TERM) != 0
        || matches_at_start(trimmed)
        || (found & (1 << SEARCH) != 0 && matches_anywhere(trimmed))
}

/// `^\d+:\d+:\d+ +`: the text after a mozharness clock and its spaces.
fn after_clock(line: &str) -> Option<&str> {
    let rest = after_digits(line)?.strip_prefix(':')?;
    let rest = after_digits(rest)?.strip_prefix(':')?;
    let rest = after_digits(rest)?;
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    (spaces > 0).then(|| rest.get(spaces..).unwrap_or_default())
}

/// At least one ASCII digit, and what follows them.
fn after_digits(text: &str) -> Option<&str> {
    let rest = text.trim_start_matches(|c: char| c.is_ascii_digit());
    (rest.len() < text.len()).then_some(rest)
}

/// `ErrorParser.RE_MOZHARNESS_PREFIX`,
/// `^\d+:\d+:\d+ +(?:DEBUG|INFO|WARNING) - +`, removed.
pub(crate) fn strip_mozharness_prefix(line: &str) -> &str {
    let Some(rest) = after_clock(line) else {
        return line;
    };
    let Some(rest) = ["DEBUG", "INFO", "WARNING"]
        .iter()
        .find_map(|level| rest.strip_prefix(level))
    else {
        return line;
    };
    let Some(rest) = rest.strip_prefix(" -") else {
        return line;
    };
    let message = rest.trim_start_matches(' ');
    if message.len() == rest.len() {
        return line;
    }
    message
}

/// `ErrorParser.RE_EXCLUDE_2_SEARCH`, on the trimmed line.
fn is_excluded(trimmed: &str) -> bool {
    gecko_dump_unexpected(trimmed)
        || trimmed.ends_with("Assertion failure")
        || trimmed
            .strip_prefix("TEST-UNEXPECTED-WARNING")
            .is_some_and(|rest| !rest.chars().next().is_some_and(is_word_char))
        || trimmed.starts_with("TimeoutException: ")
        || trimmed == "ImportError: No module named pygtk"
        || {
            static NON_FATAL: OnceLock<Finder<'static>> = OnceLock::new();
            cached_finder(&NON_FATAL, "non-fatal error")
                .find(trimmed.as_bytes())
                .is_some()
        }
}

/// `I[ /](Gecko|TestRunner).*TEST-UNEXPECTED-`: Android logcat echoes of a
/// failure that the harness reports on its own line.
fn gecko_dump_unexpected(trimmed: &str) -> bool {
    let bytes = trimmed.as_bytes();
    memchr::memchr_iter(b'I', bytes).any(|at| {
        let Some(after) = trimmed.get(at + 1..) else {
            return false;
        };
        let Some(after) = after.strip_prefix(' ').or_else(|| after.strip_prefix('/')) else {
            return false;
        };
        let Some(after) = after
            .strip_prefix("Gecko")
            .or_else(|| after.strip_prefix("TestRunner"))
        else {
            return false;
        };
        after.contains("TEST-UNEXPECTED-")
    })
}

/// `ErrorParser.RE_ERR_MATCH`: patterns anchored at the start of the line.
fn matches_at_start(trimmed: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "[  FAILED  ] ",
        "remoteFailed:",
        "rm: cannot ",
        "abort:",
        "error: ",
        "[taskcluster] Error:",
    ];
    PREFIXES.iter().any(|p| trimmed.starts_with(p))
        || make_error_at_start(trimmed)
        || class_run_then(trimmed, "Error", 1)
        || class_run_then(trimmed, "Exception", 0)
        || bracketed_error_marker(trimmed)
}

/// `^g?make(?:\[\d+\])?: \*\*\*`
fn make_error_at_start(trimmed: &str) -> bool {
    let rest = trimmed.strip_prefix('g').unwrap_or(trimmed);
    rest.strip_prefix("make")
        .map(skip_bracketed_digits)
        .is_some_and(|rest| rest.starts_with(": ***"))
}

/// `(?:\[\d+\])?`: skip a bracketed job number when there is one.
fn skip_bracketed_digits(text: &str) -> &str {
    text.strip_prefix('[')
        .and_then(after_digits)
        .and_then(|rest| rest.strip_prefix(']'))
        .unwrap_or(text)
}

/// `^[A-Za-z.]{min,}<word>: ` (`<word>` itself being letters): the leading
/// run of letters and dots ends with `word`, has at least `min` characters
/// before it, and `: ` follows.
fn class_run_then(trimmed: &str, word: &str, min_before: usize) -> bool {
    let run = trimmed
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic() || *b == b'.')
        .count();
    let Some(head) = trimmed.get(..run) else {
        return false;
    };
    head.len() >= word.len() + min_before
        && head.ends_with(word)
        && trimmed
            .get(run..)
            .is_some_and(|rest| rest.starts_with(": "))
}

/// `^\[[\w._-]+:(?:error|exception)\]`, e.g. `[taskcluster:error]`,
/// `[test_linux.sh:error]`.
fn bracketed_error_marker(trimmed: &str) -> bool {
    let Some(inside) = trimmed.strip_prefix('[') else {
        return false;
    };
    let name_len: usize = inside
        .chars()
        .take_while(|c| is_word_char(*c) || matches!(c, '.' | '_' | '-'))
        .map(char::len_utf8)
        .sum();
    if name_len == 0 {
        return false;
    }
    inside
        .get(name_len..)
        .and_then(|rest| rest.strip_prefix(':'))
        .is_some_and(|rest| rest.starts_with("error]") || rest.starts_with("exception]"))
}

/// `ErrorParser.RE_ERR_SEARCH`: patterns found anywhere in the line.
fn matches_anywhere(trimmed: &str) -> bool {
    static ERROR_PAREN: OnceLock<Finder<'static>> = OnceLock::new();
    static COMPILER: OnceLock<Finder<'static>> = OnceLock::new();
    static MSVC: OnceLock<Finder<'static>> = OnceLock::new();
    static HTTP: OnceLock<Finder<'static>> = OnceLock::new();
    static MOZMAKE: OnceLock<Finder<'static>> = OnceLock::new();
    let bytes = trimmed.as_bytes();
    // ` error\(\d*\):`
    let error_paren = cached_finder(&ERROR_PAREN, " error(")
        .find_iter(bytes)
        .any(|at| {
            let rest = trimmed.get(at + 7..).unwrap_or_default();
            rest.trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with("):")
        });
    // `:\d+: error:`
    let compiler = || {
        cached_finder(&COMPILER, ": error:")
            .find_iter(bytes)
            .any(|at| {
                let head = bytes.get(..at).unwrap_or_default();
                let digits = head.iter().rev().take_while(|b| b.is_ascii_digit()).count();
                digits > 0
                    && head.len() > digits
                    && head.get(head.len() - digits - 1) == Some(&b':')
            })
    };
    // ` error R?C\d*:`
    let msvc = || {
        cached_finder(&MSVC, " error ").find_iter(bytes).any(|at| {
            let rest = trimmed.get(at + 7..).unwrap_or_default();
            let rest = rest.strip_prefix('R').unwrap_or(rest);
            rest.strip_prefix('C').is_some_and(|rest| {
                rest.trim_start_matches(|c: char| c.is_ascii_digit())
                    .starts_with(':')
            })
        })
    };
    // `ERROR [45]\d\d:`
    let http = || {
        cached_finder(&HTTP, "ERROR ").find_iter(bytes).any(|at| {
            matches!(bytes.get(at + 6..at + 10),
                Some([status, d1, d2, b':'])
                    if matches!(status, b'4' | b'5') && d1.is_ascii_digit() && d2.is_ascii_digit())
        })
    };
    // `mozmake\.(?:exe|EXE)(?:\[\d+\])?: \*\*\*`
    let mozmake = || {
        cached_finder(&MOZMAKE, "mozmake.")
            .find_iter(bytes)
            .any(|at| {
                let rest = trimmed.get(at + 8..).unwrap_or_default();
                rest.strip_prefix("exe")
                    .or_else(|| rest.strip_prefix("EXE"))
                    .map(skip_bracketed_digits)
                    .is_some_and(|rest| rest.starts_with(": ***"))
            })
    };
    error_paren || compiler() || msvc() || http() || mozmake()
}

/// Python's `\w` in a str pattern: letters, digits and `_`.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Python's `str.isspace()` (also `\s` in a str pattern): Unicode White_Space
/// plus the ASCII information separators U+001C..U+001F.
pub(crate) fn python_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.rstrip()` with no argument.
pub(crate) fn python_rstrip(text: &str) -> &str {
    text.trim_end_matches(python_isspace)
}

/// `treeherder/etl/text.py` `astral_filter`: characters above U+FFFF become
/// `<U+XXXXXX>` (six upper-case hex digits), as Treeherder stores them.
pub(crate) fn astral_filter(text: &str) -> String {
    if text.chars().all(|c| (c as u32) <= 0xFFFF) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if (c as u32) > 0xFFFF {
            out.push_str(&format!("<U+{:06X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines Treeherder's own tests (`tests/log_parser/test_error_parser.py`,
    /// `ERROR_TEST_CASES`) say are error lines, one per rule.
    const ERROR_LINES: &[&str] = &[
        "23:52:39 INFO - 346 INFO TEST-UNEXPECTED-FAIL | dom/base/test/test_XHRDocURI.html | foo",
        "c:/Users/task_1584487163/dist/Release/lib\\softokn3.dll.lib : fatal error LNK1120: 2 unresolved externals",
        "20:10:13     INFO - PID 15468 | FATAL ERROR: AsyncShutdown timeout in xpcom-will-shutdown",
        "15:28:28     INFO - GECKO(3166) | Hit MOZ_CRASH(Shutdown hanging after all known phases and workers finished.) at /builds/worker/checkouts/gecko/toolkit/components/terminator/nsTerminator.cpp:246",
        "00:54:55 WARNING - PROCESS-CRASH | Shutdown | application crashed [@ PR_GetThreadPrivate]",
        "GECKO(6227) | Assertion failure: parent, at /builds/worker/checkouts/gecko/docshell/base/BrowsingContext.cpp:1365",
        "23:57:52 ERROR - Return code: 1",
        "23:57:52 CRITICAL - Preparing to abort run due to failed verify check.",
        "23:57:52 FATAL - Dying due to failing verification",
        "remoteFailed: [Failure instance: Traceback (failure with no frames): Foo.",
        "08:13:37 INFO - make: *** [test-integration-test] Error 1",
        "pymake\\..\\..\\mozmake.exe: *** [buildsymbols] Error 11",
        "pymake\\..\\..\\mozmake.EXE: *** [buildsymbols] Error 11",
        "00:55:13 INFO - SUMMARY: AddressSanitizer: 64 byte(s) leaked in 1 allocation(s).",
        "INFO - GECKO(2552) | SUMMARY: ThreadSanitizer: data race /builds/worker/checkouts/gecko/js/src/gc/Cell.h:572:21 in lengthField",
        "04:48:03     INFO -  [webrender 0.61.0] SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior glsl-optimizer/src/compiler/glsl/glcpp/pp.c:198:28 in",
        "19:34:37     INFO - GECKO(2516) | ThreadSanitizer: nested bug in the same thread, aborting.",
        "Automation Error: Foo bar",
        "22:16:31     INFO -  command timed out: fake -f param",
        "22:16:31     INFO -  wget: unable to resolve host address `queue.taskcluster.net'",
        "20:57:49    ERROR -  make[3]: *** [widget/gtk/target-objects] Error 2",
        "subprocess.CalledProcessError: Command '['/usr/bin/python3', 'doc']' returned non-zero exit status 2.",
        "InvalidArgumentException: Unknown pointerType: [object String]",
        "abort: reached maximum number of network attempts; giving up",
        "rm: cannot remove `debian/git/usr/share/doc/git/contrib': Is a directory",
        "[taskcluster] Error: Task run time exceeded 7200 seconds.",
        "2014-04-04 06:37:57 ERROR 403: Forbidden.",
        "[taskcluster:error] Could not upload artifact",
        "[taskcluster-image-build:error] Dockerfile must be present in /home/worker/nss/automation.",
        "[test_linux.sh:error] could not download zip file",
        "14:15:32     INFO -  REFTEST ERROR | file:///Z:/task/build/tests/reftest/tests/a.html | application timed out after 330 seconds with no output",
        "[  FAILED  ] AllHashFuncs/TlsHkdfTest.HkdfNullNull/1, where GetParam() = 5",
        "[task 2019-01-07T09:43:24.098Z] C:\\mozilla-build\\msys\\bin\\bash.exe: *** Couldn't reserve space for cygwin's heap, Win32 error 0",
        "12:54:44     INFO -  ChunkedEncodingError: (\"Connection broken: error(54, 'Connection reset by peer')\", error(54, 'Connection reset by peer'))",
        "2020-03-18 20:40:52 UTC 39:27.50 /builds/worker/checkouts/gecko/widget/gtk/nsWindow.cpp:3536:30: error: too few arguments to function",
        "src/gl.cc(2249): error C2065: 'BLEND_1': undeclared identifier",
        "20:28:29     INFO - WARNING: YOU ARE LEAKING THE WORLD (at least one JSRuntime and everything alive inside it, that is) AT JS_ShutDown TIME.  FIX THIS!",
        "error: failed to parse lock file at: /builds/worker/workspace/build/src/tools/lint/moz-linter/Cargo.lock",
        "[task 2025-01-01T00:00:00.000Z] Unsuccessful task run with exit code: 137 completed in 5400 seconds",
    ];

    /// `NON_ERROR_TEST_CASES` of the same test file: the exclusions.
    const NON_ERROR_LINES: &[&str] = &[
        "TEST-PASS | foo | bar",
        "TEST-UNEXPECTED-WARNING | /builds/worker/checkouts/gecko/browser/components/migration/IEProfileMigrator.sys.mjs:377:12 | OS.File is deprecated.",
        "07:42:02     INFO -  Exception:",
        "07:51:08     INFO -  Caught Exception: Remote Device Error: unable to connect to panda-0501 after 5 attempts",
        "06:21:18     INFO -  I/GeckoDump(  730): 110 INFO TEST-UNEXPECTED-FAIL | foo | bar",
        "[taskcluster:info] Starting task",
        "[taskcluster] Starting task",
        "01:22:41     INFO -  ImportError: No module named pygtk",
        "01:22:41     INFO -  ImportError: No module named pygtk\r\n",
        "2023-02-28 22:06:01+0000: non-fatal error removing directory: icons/, rv: 0, err: 39",
        "PROCESS(1234) | Assertion failure",
        "12:00:00     INFO - TEST-INFO | TEST-UNEXPECTED-FAIL in a passing line",
        "GECKO(1) | A content process crashed and MOZ_CRASHREPORTER_SHUTDOWN is set, shutting down: TEST-UNEXPECTED-FAIL",
        "12:00:00     INFO - nothing to see",
        "xerror: not at the start",
        "Error: no class run before Error",
        "make[x]: *** not a job number",
        "[:error] empty name",
    ];

    #[test]
    fn every_error_rule_matches_and_the_gate_lets_it_through() {
        for line in ERROR_LINES {
            assert!(may_be_error_line(line.as_bytes()), "gate: {line}");
            let mut selector = ErrorLineSelector::new();
            selector.read_line(0, b"[taskcluster 2025-01-01 00:00:00.000Z] Worker Type: t");
            assert!(
                selector.read_line(1, line.as_bytes()).is_some(),
                "in a Taskcluster log: {line}"
            );
            let line = strip_taskcluster_prefix(line);
            assert!(is_error_line(line), "{line}");
        }
    }

    /// The one-pass search finds exactly what one substring search per
    /// needle finds, at every alignment.
    #[test]
    fn needle_set_agrees_with_plain_substring_search() {
        let lists = [
            NECESSARY_NEEDLES,
            IN_SEARCH_TERMS,
            EXCLUDE_1_SEARCH,
            ERR_SEARCH_ANCHORS,
        ];
        // An anchor must lie inside its needle.
        for (needle, offset) in lists.concat() {
            assert!(offset + 2 <= needle.len(), "{needle}");
        }
        let set = NeedleSet::grouped(&lists);
        let naive = |hay: &[u8], needles: &[(&str, usize)]| {
            needles
                .iter()
                .any(|(n, _)| hay.windows(n.len()).any(|w| w == n.as_bytes()))
        };
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let alphabet = b"rRoOEe: *(]-_TSUNXPCDFAILMZKGHWxcptionbdm137\n";
        for round in 0..3000 {
            let mut hay = Vec::new();
            for _ in 0..(round % 60) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let alphabet_at = usize::try_from(state % alphabet.len() as u64).unwrap_or(0);
                hay.push(alphabet[alphabet_at]);
            }
            // Plant a needle now and then, at any offset.
            if round % 3 == 0 {
                let all = lists.concat();
                let (needle, _) = all[round % all.len()];
                let at = round % (hay.len() + 1);
                hay.splice(at..at, needle.bytes());
            }
            let expected = lists
                .iter()
                .enumerate()
                .map(|(group, list)| u32::from(naive(&hay, list)) << group)
                .fold(0, |all, bit| all | bit);
            assert_eq!(
                set.groups_in(&hay),
                expected,
                "{:?}",
                String::from_utf8_lossy(&hay)
            );
            assert_eq!(set.any_in(&hay), expected != 0);
        }
        for (needle, _) in NECESSARY_NEEDLES {
            for pad in 0..3 {
                let hay = format!("{}{needle}", "x".repeat(pad));
                assert!(may_be_error_line(hay.as_bytes()), "{hay}");
                let cut = &hay.as_bytes()[..hay.len() - 1];
                assert_eq!(may_be_error_line(cut), naive(cut, NECESSARY_NEEDLES));
            }
        }
    }

    #[test]
    fn exclusions_and_look_alikes_are_not_error_lines() {
        for line in NON_ERROR_LINES {
            assert!(!is_error_line(line), "{line}");
        }
        assert!(!is_error_line("foo.c 12: error: x"));
        assert!(is_error_line("foo.c:12: error: x"));
        assert!(is_error_line("a.py:7: error: x"));
        assert!(!is_error_line("ERROR 200: fine"));
        assert!(!is_error_line("see make: *** somewhere"));
        assert!(is_error_line("gmake[12]: *** [all] Error 2"));
        assert!(is_error_line("mozmake.exe[3]: *** [all] Error 2"));
        assert!(is_error_line("x error RC2001: bad"));
        assert!(is_error_line("x error(): bad"));
        assert!(is_error_line("Foo.BarError: x"));
        assert!(!is_error_line("Error: x"));
        assert!(is_error_line("Exception: x"));
        assert!(is_error_line("TEST-UNEXPECTED-WARNINGS | x"));
    }

    #[test]
    fn mozharness_error_levels_match_before_the_exclusions() {
        // RE_ERR_1_MATCH is checked on the whole line, before RE_EXCLUDE_2.
        assert!(is_error_line(
            "12:00:00    ERROR - ImportError: No module named pygtk"
        ));
        assert!(!is_error_line("12:00:00 INFO - Return code: 1"));
        assert!(!is_error_line("12:00:00 ERROR -Return code: 1"));
        assert!(!is_error_line("12:00:00ERROR - Return code: 1"));
        assert_eq!(strip_mozharness_prefix("1:2:3  INFO -   x"), "x");
        assert_eq!(strip_mozharness_prefix("1:2:3 INFO - "), "");
        assert_eq!(strip_mozharness_prefix("1:2:3 INFO -"), "1:2:3 INFO -");
        assert_eq!(strip_mozharness_prefix("1:2:3 INFO -x"), "1:2:3 INFO -x");
    }

    #[test]
    fn taskcluster_prefixes_are_removed_only_in_taskcluster_logs() {
        let line = b"[vcs 2016-09-07T19:03:02.188327Z] 23:57:52 ERROR - Return code: 1";
        let mut selector = ErrorLineSelector::new();
        assert!(selector.read_line(1, line).is_none());
        selector.read_line(2, b"[taskcluster 2016-09-07 19:02:55.114Z] Task ID: x");
        let kept = selector.read_line(3, line).cloned();
        assert_eq!(
            kept,
            Some(ErrorLine::new(3, "23:57:52 ERROR - Return code: 1"))
        );
        assert_eq!(
            strip_taskcluster_prefix("[taskcluster 2016-09-09 17:41:43.544Z] Worker"),
            "Worker"
        );
        assert_eq!(
            strip_taskcluster_prefix("[2016- task] x"),
            "x",
            "the regex's own example"
        );
        for kept in [
            "[taskcluster:error] 2016-01-01 x",
            "[taskcluster:something 2016-] x",
            "[task 2016-01]x",
            "[task 2016-] x",
            "[task 1999-01-01] x",
            "no bracket 2016-01-01",
        ] {
            assert_eq!(strip_taskcluster_prefix(kept), kept);
        }
        assert_eq!(strip_taskcluster_prefix("[a 2016-1]\tb"), "b");
        assert_eq!(strip_taskcluster_prefix("[a 2016-1]\u{1c}b"), "b");
    }

    #[test]
    fn a_line_equal_to_the_last_kept_one_is_not_kept_again() {
        let mut selector = ErrorLineSelector::new();
        assert!(selector.read_line(0, b"error: a").is_some());
        assert!(selector.read_line(1, b"error: a   ").is_none());
        assert!(selector.read_line(2, b"error: b").is_some());
        assert!(selector.read_line(3, b"error: a").is_some());
        let numbers: Vec<u64> = selector.into_kept().iter().map(|l| l.line_number).collect();
        assert_eq!(numbers, [0, 2, 3]);
    }

    #[test]
    fn at_most_forty_lines_are_kept_and_nothing_is_read_after() {
        let mut log = String::new();
        for i in 0..50 {
            log.push_str(&format!("error: number {i}\n"));
        }
        let kept = treeherder_error_lines(log.as_bytes());
        assert_eq!(kept.len(), MAX_ERROR_LINES);
        assert_eq!(kept.last().map(|l| l.line_number), Some(39));
        // The cap also stops Taskcluster detection: a later prefix stays.
        let mut selector = ErrorLineSelector::new();
        for i in 0..40u64 {
            selector.read_line(i, format!("error: {i}").as_bytes());
        }
        assert!(selector.is_full());
        selector.read_line(40, b"[taskcluster 2020-01-01] x");
        assert!(!selector.is_taskcluster);
    }

    #[test]
    fn lines_are_cut_to_500_characters_before_matching() {
        let long = format!("{}error: late", "é".repeat(495));
        assert!(treeherder_error_lines(long.as_bytes()).is_empty());
        let kept = format!("error: {}", "é".repeat(600));
        let lines = treeherder_error_lines(kept.as_bytes());
        assert_eq!(lines[0].line.chars().count(), MAX_LINE_CHARS);
        let perf = format!("error: PERFHERDER_DATA {}", "x".repeat(600));
        assert_eq!(treeherder_error_lines(perf.as_bytes())[0].line, perf);
    }

    #[test]
    fn line_ends_and_numbers_follow_splitlines() {
        let log = b"ok\r\nerror: one\rok\n\nerror: two\r\n\r\nerror: three";
        let kept = treeherder_error_lines(log);
        let got: Vec<(u64, &str)> = kept
            .iter()
            .map(|l| (l.line_number, l.line.as_str()))
            .collect();
        assert_eq!(
            got,
            [(1, "error: one"), (4, "error: two"), (6, "error: three")]
        );
        let lines: Vec<&[u8]> = split_lines(b"a\n\nb\r\n").collect();
        assert_eq!(lines, [&b"a"[..], b"", b"b"]);
        // Form feeds and vertical tabs are not line ends for bytes.splitlines().
        assert_eq!(split_lines(b"a\x0cb\x0bc").count(), 1);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_astral_characters_are_spelled_out() {
        let kept = treeherder_error_lines(b"error: \xff\xfe bad \xf0\x9f\x98\x80 smile  \x1f");
        assert_eq!(kept[0].line, "error: \u{fffd}\u{fffd} bad <U+01F600> smile");
    }
}
