//! Benchmark: parsing a large buildjson day file, streaming versus naive.
//!
//! Generates a synthetic `builds-YYYY-MM-DD.js.gz` of about 150 MB
//! uncompressed (shaped like the recorded builds-4hr fixture), then reports
//! wall time and peak heap for the streaming parser (filtered and unfiltered)
//! and for a whole-document `serde_json::Value` parse. Peak heap comes from a
//! counting global allocator; VmHWM from /proc is printed as a cross-check.

use mozci::sources::buildjson::{parse_finished_builds_gz, BuildFilter};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufReader, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Wraps the system allocator to track live and peak heap bytes.
struct CountingAllocator;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                let live = LIVE_BYTES.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE_BYTES.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const TARGET_UNCOMPRESSED_BYTES: usize = 150 * 1024 * 1024;

const BRANCHES: [&str; 6] = [
    "mozilla-inbound",
    "fx-team",
    "try",
    "mozilla-central",
    "b2g-inbound",
    "mozilla-aurora",
];
const PLATFORMS: [(&str, &str); 5] = [
    ("Ubuntu VM 12.04 x64", "linux64"),
    ("Windows 7 32-bit", "win32"),
    ("Rev5 MacOSX Yosemite 10.10", "macosx64"),
    ("Windows 8 64-bit", "win64"),
    ("Android 4.0 armv7 API 11+", "android-api-11"),
];
const SUITES: [&str; 8] = [
    "mochitest-1",
    "mochitest-browser-chrome-3",
    "reftest",
    "xpcshell",
    "crashtest",
    "jittest",
    "web-platform-tests-4",
    "talos-tp5o",
];

/// Deterministic pseudo-random numbers (a 64-bit LCG) so every run parses the same file.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() as usize) % items.len()]
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[(self.next() % 16) as usize]))
            .collect()
    }
}

/// One build shaped like the entries of builds-4hr.json (about 1.6 KB).
fn write_build(out: &mut Vec<u8>, rng: &mut Lcg, id: u64) {
    let branch = rng.pick(&BRANCHES);
    let (platform, stage) = rng.pick(&PLATFORMS);
    let suite = rng.pick(&SUITES);
    let kind = rng.pick(&["opt", "debug", "pgo"]);
    let revision = rng.hex(12);
    let request_id = 28_000_000 + id * 2;
    let merged = if rng.next() % 10 == 0 {
        format!(", {}", request_id + 1)
    } else {
        String::new()
    };
    let start = 1_376_400_000 + rng.next() % 86_400;
    let user = rng.hex(8);
    let builduid = rng.hex(32);
    let slave = rng.next() % 900;
    let result = [0, 0, 0, 0, 0, 0, 1, 2, 4, 5][(rng.next() % 10) as usize];
    let _ = write!(
        out,
        r#"{{"builder_id": {builder_id}, "buildnumber": {buildnumber}, "endtime": {end}, "id": {id}, "master_id": {master},
"properties": {{"basedir": "/builds/slave/test", "branch": "{branch}",
"build_url": "http://ftp.mozilla.org/pub/mozilla.org/firefox/tinderbox-builds/{branch}-{stage}/{start}/firefox-26.0a1.en-US.{stage}.tar.bz2",
"buildername": "{platform} {branch} {kind} test {suite}", "buildid": "20130813{slave:06}", "buildnumber": {buildnumber}, "builduid": "{builduid}",
"log_url": "http://ftp.mozilla.org/pub/mozilla.org/firefox/tinderbox-builds/{branch}-{stage}/{start}/{branch}_{stage}_test-{suite}-bm{master}-tests1-linux-build{buildnumber}.txt.gz",
"master": "http://buildbot-master{master}.srv.releng.usw2.mozilla.com:8201/", "platform": "{stage}", "product": "firefox", "project": "",
"packageUrl": "http://ftp.mozilla.org/pub/mozilla.org/firefox/try-builds/{user}@mozilla.com-{revision}/try-{stage}/firefox-26.0a1.en-US.{stage}.tar.bz2",
"testsUrl": "http://ftp.mozilla.org/pub/mozilla.org/firefox/try-builds/{user}@mozilla.com-{revision}/try-{stage}/firefox-26.0a1.en-US.{stage}.tests.zip",
"repo_path": "integration/{branch}", "repository": "", "request_ids": [{request_id}{merged}], "request_times": {{"{request_id}": {requested}}},
"revision": "{revision}", "scheduler": "tests-{branch}-{stage}-{kind}-unittest", "script_repo_revision": "{script}", "slavebuilddir": "test",
"slavename": "tst-linux64-ec2-{slave:03}", "stage_platform": "{stage}"}},
"reason": "scheduler", "request_ids": [{request_id}{merged}], "requesttime": {requested}, "result": {result}, "slave_id": {slave_id}, "starttime": {start}}}"#,
        builder_id = 170_000 + rng.next() % 9000,
        buildnumber = rng.next() % 5000,
        end = start + 600 + rng.next() % 5000,
        master = 60 + rng.next() % 40,
        requested = start - 300,
        script = rng.hex(12),
        slave_id = 4000 + slave,
    );
}

/// A synthetic day file: `{"builds": [...], "builders": {...}}`, plain bytes.
fn synthetic_day_file() -> (Vec<u8>, u64) {
    let mut rng = Lcg(0x5eed);
    let mut out = Vec::with_capacity(TARGET_UNCOMPRESSED_BYTES + 64 * 1024);
    out.extend_from_slice(b"{\"builds\": [\n");
    let mut id = 0;
    while out.len() < TARGET_UNCOMPRESSED_BYTES {
        if id > 0 {
            out.extend_from_slice(b",\n");
        }
        write_build(&mut out, &mut rng, id);
        id += 1;
    }
    out.extend_from_slice(
        b"\n], \"builders\": {\"example\": {\"slaves\": [\"a\", \"b\"]}}, \"slaves\": {}}\n",
    );
    (out, id)
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Run `f`, returning its result, wall time and the heap peak above the starting level.
fn measure<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let baseline = LIVE_BYTES.load(Ordering::Relaxed);
    PEAK_BYTES.store(baseline, Ordering::Relaxed);
    let started = Instant::now();
    let value = f();
    let elapsed = started.elapsed();
    let peak = PEAK_BYTES.load(Ordering::Relaxed).saturating_sub(baseline);
    let retained = LIVE_BYTES.load(Ordering::Relaxed).saturating_sub(baseline);
    println!(
        "{label:<44} {:>8.2} s   peak heap {:>8.1} MiB   result holds {:>7.1} MiB   VmHWM {} KiB",
        elapsed.as_secs_f64(),
        mib(peak),
        mib(retained),
        vm_hwm_kib().map_or_else(|| "n/a".to_string(), |k| k.to_string()),
    );
    value
}

fn main() {
    let (plain, build_count) = synthetic_day_file();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&plain).expect("gzip in memory");
    let compressed = encoder.finish().expect("gzip in memory");
    println!(
        "synthetic day file: {build_count} builds, {:.1} MiB uncompressed, {:.1} MiB gzip",
        mib(plain.len()),
        mib(compressed.len())
    );
    drop(plain);

    let wanted: Vec<u64> = (0..50)
        .map(|i| 28_000_000 + i * 2 * (build_count / 50))
        .collect();
    let found = measure("streaming, 50 request ids", || {
        parse_finished_builds_gz(
            &compressed[..],
            &BuildFilter::request_ids(wanted.iter().copied()),
        )
        .expect("synthetic file parses")
        .len()
    });
    assert_eq!(found, 50, "every wanted request has its build");

    let inbound = measure("streaming, branch mozilla-inbound", || {
        parse_finished_builds_gz(&compressed[..], &BuildFilter::branch("mozilla-inbound"))
            .expect("synthetic file parses")
    });
    println!("  kept {} builds", inbound.len());
    drop(inbound);

    let all = measure("streaming, every build (compact fields)", || {
        parse_finished_builds_gz(&compressed[..], &BuildFilter::all())
            .expect("synthetic file parses")
    });
    assert_eq!(all.len() as u64, build_count);
    drop(all);

    let value = measure("naive serde_json::Value of the whole file", || {
        let reader =
            BufReader::with_capacity(64 * 1024, flate2::read::GzDecoder::new(&compressed[..]));
        serde_json::from_reader::<_, serde_json::Value>(reader).expect("synthetic file parses")
    });
    let naive_count = value
        .get("builds")
        .and_then(|b| b.as_array())
        .map_or(0, Vec::len);
    assert_eq!(naive_count as u64, build_count);
}
