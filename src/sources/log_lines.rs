//! Reading a log stream: [`feed_reader`] hands out the decompressed bytes
//! of a plain or gzip body in bounded chunks, and `LineSplitter` cuts
//! chunks of any size into numbered lines the way Treeherder numbers them.

#![warn(missing_docs)]

use super::failure_types::MAX_LINE_BYTES;
use crate::error::{Error, Result};
use crate::http::gzip::{GzipReader, OutputLimitExceeded, GZIP_MAGIC};
use crate::http::BodyKind;
use std::io::Read;

/// Read `reader` to its end in bounded chunks, decompressing gzip (detected
/// from the magic bytes, concatenated members included, at most the
/// decompressed cap of a log body), and hand each chunk to `sink`.
pub fn feed_reader(reader: impl Read, mut sink: impl FnMut(&[u8])) -> Result<()> {
    const CHUNK_BYTES: usize = 64 * 1024;
    let mut reader = reader;
    let mut head = [0u8; 2];
    let mut head_len = 0;
    while head_len < head.len() {
        let n = read_retrying(&mut reader, &mut head[head_len..])?;
        if n == 0 {
            break;
        }
        head_len += n;
    }
    let head = head.get(..head_len).unwrap_or(&[]);
    let mut stream: Box<dyn Read + '_> = if head == GZIP_MAGIC {
        Box::new(
            GzipReader::multi_member(head.chain(reader))
                .max_output(BodyKind::Log.limits().max_decoded_bytes),
        )
    } else {
        Box::new(head.chain(reader))
    };
    let mut buf = vec![0u8; CHUNK_BYTES];
    loop {
        let n = read_retrying(&mut stream, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        sink(buf.get(..n).unwrap_or(&[]));
    }
}

fn read_retrying(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(OutputLimitExceeded::as_body_error("log stream", &e)
                    .unwrap_or_else(|| Error::parse("log stream", e)))
            }
        }
    }
}

/// Splits a byte stream fed in arbitrary chunks into lines ending at `\n`,
/// `\r\n` or a lone `\r` (Treeherder's line numbering), holding at most
/// [`MAX_LINE_BYTES`] of the current line.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
    partial_truncated: bool,
    /// The previous chunk ended with `\r`: a `\n` opening the next one
    /// belongs to the same line end.
    after_cr: bool,
    next_line_number: u64,
}

/// One complete line handed out by [`LineSplitter`].
#[derive(Debug)]
pub(crate) struct SplitLine<'a> {
    pub(crate) number: u64,
    pub(crate) bytes: &'a [u8],
    /// The line was longer than [`MAX_LINE_BYTES`]; `bytes` is its start.
    pub(crate) truncated: bool,
}

impl LineSplitter {
    pub(crate) fn push(&mut self, chunk: &[u8], mut on_line: impl FnMut(SplitLine<'_>)) {
        if chunk.is_empty() {
            return;
        }
        let mut rest = chunk;
        if self.after_cr {
            self.after_cr = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', rest) {
            let (line, tail) = rest.split_at(end);
            let terminator = tail.first().copied();
            let mut after = tail.get(1..).unwrap_or(&[]);
            if terminator == Some(b'\r') {
                match after.first() {
                    Some(b'\n') => after = after.get(1..).unwrap_or(&[]),
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let number = self.next_line_number;
            self.next_line_number += 1;
            if self.partial.is_empty() && !self.partial_truncated {
                let truncated = line.len() > MAX_LINE_BYTES;
                let bytes = line.get(..MAX_LINE_BYTES.min(line.len())).unwrap_or(line);
                on_line(SplitLine {
                    number,
                    bytes,
                    truncated,
                });
            } else {
                self.append_partial(line);
                self.hand_out_partial(number, &mut on_line);
            }
            rest = after;
        }
        self.append_partial(rest);
    }

    /// Hand out the last line if the stream did not end with a line end.
    pub(crate) fn finish(&mut self, mut on_line: impl FnMut(SplitLine<'_>)) {
        if !self.partial.is_empty() || self.partial_truncated {
            let number = self.next_line_number;
            self.next_line_number += 1;
            self.hand_out_partial(number, &mut on_line);
        }
    }

    /// Hand out the line gathered across chunks and start the next one.
    fn hand_out_partial(&mut self, number: u64, on_line: &mut impl FnMut(SplitLine<'_>)) {
        on_line(SplitLine {
            number,
            bytes: &self.partial,
            truncated: self.partial_truncated,
        });
        self.partial.clear();
        self.partial_truncated = false;
    }

    /// Lines handed out so far.
    pub(crate) fn lines(&self) -> u64 {
        self.next_line_number
    }

    fn append_partial(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.partial.len());
        if bytes.len() > room {
            self.partial_truncated = true;
        }
        self.partial
            .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or(&[]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(chunks: &[&[u8]]) -> Vec<(u64, String, bool)> {
        let mut splitter = LineSplitter::default();
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, |l| {
                out.push((
                    l.number,
                    String::from_utf8_lossy(l.bytes).into_owned(),
                    l.truncated,
                ))
            });
        }
        splitter.finish(|l| {
            out.push((
                l.number,
                String::from_utf8_lossy(l.bytes).into_owned(),
                l.truncated,
            ))
        });
        out
    }

    #[test]
    fn line_ends_are_counted_like_treeherder() {
        let lines = split_all(&[b"a\r\nb\rc\n\r\nd"]);
        let texts: Vec<&str> = lines.iter().map(|(_, t, _)| t.as_str()).collect();
        assert_eq!(texts, ["a", "b", "c", "", "d"]);
        assert_eq!(lines.last().map(|l| l.0), Some(4));
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let whole = split_all(&[b"one\r\ntwo\r\n"]);
        let split = split_all(&[b"one\r", b"\ntwo\r", b"\n"]);
        assert_eq!(whole, split);
        assert_eq!(whole.len(), 2);
    }

    #[test]
    fn overlong_lines_keep_their_start() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let mut input = long.clone();
        input.extend_from_slice(b"\nshort\n");
        let in_one = split_all(&[&input]);
        let (first, second) = input.split_at(MAX_LINE_BYTES - 3);
        let in_two = split_all(&[first, second]);
        assert_eq!(in_one, in_two);
        assert_eq!(in_one.len(), 2);
        assert!(in_one[0].2, "the long line is marked truncated");
        assert_eq!(in_one[0].1.len(), MAX_LINE_BYTES);
        assert_eq!(in_one[1], (1, "short".to_string(), false));
    }

    #[test]
    fn feed_reader_decompresses_gzip() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"hello\nworld\n").unwrap();
        let gz = encoder.finish().unwrap();
        let mut out = Vec::new();
        feed_reader(gz.as_slice(), |c| out.extend_from_slice(c)).unwrap();
        assert_eq!(out, b"hello\nworld\n");
        let mut plain = Vec::new();
        feed_reader(&b"x"[..], |c| plain.extend_from_slice(c)).unwrap();
        assert_eq!(plain, b"x");
    }
}
