//! Bounded reads against hostile servers on 127.0.0.1: a gzip bomb (as a
//! `Content-Encoding: gzip` answer and as a `.gz` log body), an endless
//! body, a lying `Content-Length`, and a body that drips one byte every
//! second. Each ends with a clear error within the deadline, and memory
//! stays near the caps (`docs/limits.md`).
#![cfg(not(target_arch = "wasm32"))]

use flate2::write::GzEncoder;
use flate2::Compression;
use mozci::http::{send_checked, BodyKind, HttpClient, HttpRequest, NativeClient, RetryPolicy};
use mozci::sources::test_failures::feed_reader;
use mozci::Error;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MB: u64 = 1024 * 1024;

/// What the hostile server does after reading a request.
#[derive(Clone)]
enum Answer {
    /// Headers (without the blank line) and a body, sent at once.
    Whole { headers: String, body: Arc<Vec<u8>> },
    /// 200 with no length, then `chunk` repeated until the client leaves.
    Endless { chunk: Arc<Vec<u8>> },
    /// 200 announcing 10 bytes, then one byte per `every`.
    Drip { every: Duration },
}

/// A one-route server on 127.0.0.1 giving `answer` to every request.
async fn serve(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer_one(stream, answer.clone()));
        }
    });
    format!("http://{address}")
}

async fn answer_one(mut stream: TcpStream, answer: Answer) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    // Write errors mean the client hung up, which is what it should do.
    match answer {
        Answer::Whole { headers, body } => {
            let head = format!("HTTP/1.1 200 OK\r\n{headers}Connection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
        }
        Answer::Endless { chunk } => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            while stream.write_all(&chunk).await.is_ok() {}
        }
        Answer::Drip { every } => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            loop {
                if stream.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        }
    }
}

/// A gzip stream of `members` concatenated members of 16 MB of zeros each
/// (16 KB compressed): 4 MB on the wire for 4 GB decompressed at 256.
fn gzip_bomb(members: usize) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; MB as usize];
    for _ in 0..16 {
        encoder.write_all(&zeros).expect("compress");
    }
    let member = encoder.finish().expect("compress");
    member.repeat(members)
}

fn client(timeout: Duration) -> NativeClient {
    NativeClient::new(timeout).expect("client")
}

/// The peak resident memory of this test process (Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[tokio::test]
async fn a_gzip_encoded_bomb_stops_at_the_decompressed_cap() {
    let bomb = gzip_bomb(256);
    assert!(bomb.len() < 8 * MB as usize, "{} bytes", bomb.len());
    let origin = serve(Answer::Whole {
        headers: format!(
            "Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n",
            bomb.len()
        ),
        body: Arc::new(bomb),
    })
    .await;
    let url = format!("{origin}/api/project/autoland/jobs/");
    let started = Instant::now();
    let error = client(Duration::from_secs(10))
        .send(HttpRequest::get(url.clone()))
        .await
        .expect_err("a 4 GB body is refused");
    assert_eq!(
        error,
        Error::BodyTooLarge {
            url: url.clone(),
            limit_bytes: BodyKind::Api.limits().max_decoded_bytes,
            decompressed: true,
        }
    );
    assert_eq!(
        error.to_string(),
        format!("body of {url} exceeded 64 MB decompressed")
    );
    // Loose: a debug build inflates 64 MB beside the other tests of this
    // binary; the memory below is what shows the cap.
    assert!(started.elapsed() < Duration::from_secs(30));
    if let Some(peak) = peak_rss() {
        // 4 GB were on offer; the cap (64 MB) plus the wire bytes were taken.
        assert!(peak < 1024 * MB, "peak resident memory {} MB", peak / MB);
    }
}

#[tokio::test]
async fn gzip_answers_within_the_caps_are_decoded() {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(br#"{"lastpushid": 33277}"#)
        .expect("compress");
    let gzipped = encoder.finish().expect("compress");
    let origin = serve(Answer::Whole {
        headers: format!(
            "Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n",
            gzipped.len()
        ),
        body: Arc::new(gzipped),
    })
    .await;
    let response = client(Duration::from_secs(10))
        .send(HttpRequest::get(format!("{origin}/json-pushes")))
        .await
        .expect("a small gzip answer");
    assert_eq!(response.body, br#"{"lastpushid": 33277}"#);
    assert_eq!(response.header("content-encoding"), None, "decoded here");
    // No body (as with HEAD, 204 or 304) but the header: nothing to decode.
    let empty = serve(Answer::Whole {
        headers: "Content-Encoding: gzip\r\nContent-Length: 0\r\n".into(),
        body: Arc::new(Vec::new()),
    })
    .await;
    let response = client(Duration::from_secs(10))
        .send(HttpRequest::get(format!("{empty}/builds-4hr.js.gz")))
        .await
        .expect("an empty answer");
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn a_gz_log_body_bomb_stops_at_the_log_cap() {
    // Served as a file (no Content-Encoding): the log parser inflates it.
    let bomb = gzip_bomb(64);
    let origin = serve(Answer::Whole {
        headers: format!(
            "Content-Type: application/octet-stream\r\nContent-Length: {}\r\n",
            bomb.len()
        ),
        body: Arc::new(bomb),
    })
    .await;
    let url = format!("{origin}/public/logs/live_backing.log.gz");
    let client = client(Duration::from_secs(10));
    let response = send_checked(
        &client,
        HttpRequest::get(url).body_kind(BodyKind::Log),
        RetryPolicy::none(),
    )
    .await
    .expect("1 MB on the wire is within the log's cap");
    let mut inflated = 0u64;
    let error = feed_reader(response.body.as_slice(), |chunk| {
        inflated += chunk.len() as u64
    })
    .expect_err("1 GB decompressed is over the log's cap");
    let cap = BodyKind::Log.limits().max_decoded_bytes;
    assert_eq!(
        error,
        Error::BodyTooLarge {
            url: "log stream".into(),
            limit_bytes: cap,
            decompressed: true,
        }
    );
    assert_eq!(inflated, cap, "the parser saw the cap's worth and no more");
}

#[tokio::test]
async fn an_endless_body_stops_at_the_wire_cap() {
    let origin = serve(Answer::Endless {
        chunk: Arc::new(vec![b'x'; 64 * 1024]),
    })
    .await;
    let url = format!("{origin}/api/repository/");
    let error = client(Duration::from_secs(20))
        .send(HttpRequest::get(url.clone()))
        .await
        .expect_err("an endless body is refused");
    assert_eq!(
        error,
        Error::BodyTooLarge {
            url,
            limit_bytes: BodyKind::Api.limits().max_wire_bytes,
            decompressed: false,
        }
    );
}

#[tokio::test]
async fn an_announced_length_over_the_cap_is_refused_before_reading() {
    let origin = serve(Answer::Whole {
        headers: format!("Content-Length: {}\r\n", 40 * MB),
        body: Arc::new(b"{}".to_vec()),
    })
    .await;
    let url = format!("{origin}/api/repository/");
    let started = Instant::now();
    let error = client(Duration::from_secs(20))
        .send(HttpRequest::get(url))
        .await
        .expect_err("40 MB announced");
    assert!(
        matches!(error, Error::BodyTooLarge { decompressed: false, limit_bytes, .. } if limit_bytes == 32 * MB),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_dripping_body_ends_at_the_deadline() {
    let origin = serve(Answer::Drip {
        every: Duration::from_secs(1),
    })
    .await;
    let url = format!("{origin}/api/project/autoland/push/");
    let started = Instant::now();
    let error = client(Duration::from_millis(2_500))
        .send(HttpRequest::get(url.clone()))
        .await
        .expect_err("10 bytes at one a second do not come within 2.5 s");
    let elapsed = started.elapsed();
    assert_eq!(
        error,
        Error::ReadDeadline {
            url: url.clone(),
            after_ms: 2_500
        }
    );
    assert_eq!(
        error.to_string(),
        format!("read of {url} did not finish within 3 s")
    );
    assert!(error.is_transient(), "a read may be retried");
    assert!(
        // Well before the drip's own end (10 s), with room for a loaded
        // machine's timers.
        elapsed >= Duration::from_millis(2_400) && elapsed < Duration::from_millis(8_000),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_request_timeout_bounds_the_whole_read_too() {
    let origin = serve(Answer::Drip {
        every: Duration::from_secs(1),
    })
    .await;
    let url = format!("{origin}/public/logs/live_backing.log");
    let started = Instant::now();
    // A log gets at least 300 s from the client's default; a request's own
    // timeout is what it asks for.
    let error = client(Duration::from_secs(60))
        .send(
            HttpRequest::get(url.clone())
                .body_kind(BodyKind::Log)
                .timeout_ms(1_500),
        )
        .await
        .expect_err("deadline");
    assert_eq!(
        error,
        Error::ReadDeadline {
            url,
            after_ms: 1_500
        }
    );
    // Well before the drip's own end (10 s).
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[test]
fn deadlines_take_the_kind_floor_unless_the_request_sets_one() {
    assert_eq!(BodyKind::Api.deadline_ms(None, 30_000), 30_000);
    assert_eq!(BodyKind::Log.deadline_ms(None, 30_000), 300_000);
    assert_eq!(BodyKind::BuildbotDump.deadline_ms(None, 600_000), 600_000);
    assert_eq!(BodyKind::Log.deadline_ms(Some(1_000), 30_000), 1_000);
    for kind in [
        BodyKind::Api,
        BodyKind::Pushlog,
        BodyKind::BuildbotDump,
        BodyKind::Log,
    ] {
        let limits = kind.limits();
        assert!(
            limits.max_wire_bytes <= limits.max_decoded_bytes,
            "{kind:?}"
        );
    }
}
