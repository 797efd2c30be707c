//! Streaming gzip (RFC 1952) decoding, for HTTP's `Content-Encoding: gzip`
//! and for the gzip files sources read (buildjson day files, job logs):
//! member headers and trailers (CRC-32, length) are checked here, the
//! deflate data is inflated by `miniz_oxide`. Kept in-house rather than
//! through `flate2`, whose 16 KB CRC table alone weighs on the wasm budget.

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};
use std::io::{self, Read};

/// The two bytes every gzip member starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Compressed bytes read from the inner reader at a time.
const INPUT_CHUNK: usize = 32 * 1024;

const METHOD_DEFLATE: u8 = 8;
const FLAG_HCRC: u8 = 0x02;
const FLAG_EXTRA: u8 = 0x04;
const FLAG_NAME: u8 = 0x08;
const FLAG_COMMENT: u8 = 0x10;
const FLAGS_RESERVED: u8 = 0xe0;

/// A reader of the decompressed bytes of a gzip stream.
pub struct GzipReader<R> {
    inner: R,
    input: Vec<u8>,
    input_pos: usize,
    inner_done: bool,
    inflater: Box<InflateState>,
    phase: Phase,
    /// Whether members after the first are decoded too (`gzip` itself
    /// concatenates them); otherwise whatever follows the first is ignored.
    all_members: bool,
    crc: Crc32,
    member_len: u32,
    /// Decompressed bytes handed out so far, and the most allowed.
    produced: u64,
    max_output: u64,
}

/// The error inside the `io::Error` a [`GzipReader`] returns once its output
/// passes the cap set with [`GzipReader::max_output`]: a gzip bomb, or a
/// body larger than its endpoint kind allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the decompressed data exceeded {limit_bytes} bytes")]
pub struct OutputLimitExceeded {
    /// The cap that was passed, in bytes.
    pub limit_bytes: u64,
}

impl OutputLimitExceeded {
    /// [`crate::error::Error::BodyTooLarge`] for `source` if `error` is the
    /// output cap's.
    pub fn as_body_error(source: &str, error: &io::Error) -> Option<crate::error::Error> {
        Self::in_io_error(error).map(|limit_bytes| crate::error::Error::BodyTooLarge {
            url: source.to_string(),
            limit_bytes,
            decompressed: true,
        })
    }

    /// The cap passed, if `error` is a [`GzipReader`]'s output-cap error.
    pub fn in_io_error(error: &io::Error) -> Option<u64> {
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<OutputLimitExceeded>())
            .map(|e| e.limit_bytes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Body,
    Trailer,
    Done,
}

impl<R: Read> GzipReader<R> {
    /// Decode the first gzip member of `inner` (a single-member file).
    pub fn new(inner: R) -> Self {
        GzipReader {
            inner,
            input: Vec::new(),
            input_pos: 0,
            inner_done: false,
            inflater: InflateState::new_boxed(DataFormat::Raw),
            phase: Phase::Header,
            all_members: false,
            crc: Crc32::new(),
            member_len: 0,
            produced: 0,
            max_output: u64::MAX,
        }
    }

    /// Stop with [`OutputLimitExceeded`] once more than `limit_bytes` have
    /// been decompressed, instead of inflating a bomb to its end.
    pub fn max_output(mut self, limit_bytes: u64) -> Self {
        self.max_output = limit_bytes;
        self
    }

    /// Decode every concatenated gzip member of `inner`, as `gzip -d` does.
    pub fn multi_member(inner: R) -> Self {
        GzipReader {
            all_members: true,
            ..GzipReader::new(inner)
        }
    }

    /// The unread input, refilled from the inner reader when it is empty
    /// (empty only at the end of the inner reader).
    fn available(&mut self) -> io::Result<&[u8]> {
        if self.input_pos >= self.input.len() && !self.inner_done {
            self.input.resize(INPUT_CHUNK, 0);
            let n = loop {
                match self.inner.read(&mut self.input) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            self.input.truncate(n);
            self.input_pos = 0;
            self.inner_done = n == 0;
        }
        Ok(self.input.get(self.input_pos..).unwrap_or(&[]))
    }

    fn byte(&mut self) -> io::Result<u8> {
        let byte = self
            .available()?
            .first()
            .copied()
            .ok_or_else(|| invalid("the gzip stream ends inside a member header or trailer"))?;
        self.input_pos += 1;
        Ok(byte)
    }

    fn u16_le(&mut self) -> io::Result<u16> {
        Ok(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    fn u32_le(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }

    fn skip_zero_terminated(&mut self) -> io::Result<()> {
        while self.byte()? != 0 {}
        Ok(())
    }

    fn read_header(&mut self) -> io::Result<()> {
        if [self.byte()?, self.byte()?] != GZIP_MAGIC {
            return Err(invalid("not a gzip stream (bad magic bytes)"));
        }
        if self.byte()? != METHOD_DEFLATE {
            return Err(invalid("unsupported gzip compression method"));
        }
        let flags = self.byte()?;
        if flags & FLAGS_RESERVED != 0 {
            return Err(invalid("reserved gzip header flags are set"));
        }
        // Modification time (4), extra flags (1), operating system (1).
        for _ in 0..6 {
            self.byte()?;
        }
        if flags & FLAG_EXTRA != 0 {
            for _ in 0..self.u16_le()? {
                self.byte()?;
            }
        }
        if flags & FLAG_NAME != 0 {
            self.skip_zero_terminated()?;
        }
        if flags & FLAG_COMMENT != 0 {
            self.skip_zero_terminated()?;
        }
        if flags & FLAG_HCRC != 0 {
            self.u16_le()?;
        }
        self.inflater.reset(DataFormat::Raw);
        self.crc = Crc32::new();
        self.member_len = 0;
        Ok(())
    }

    fn read_trailer(&mut self) -> io::Result<()> {
        let crc = self.u32_le()?;
        let len = self.u32_le()?;
        if crc != self.crc.value() {
            return Err(invalid("gzip CRC-32 mismatch: the data is corrupt"));
        }
        if len != self.member_len {
            return Err(invalid("gzip length mismatch: the data is corrupt"));
        }
        Ok(())
    }

    /// Inflate into `out`; `Ok(0)` only once the member's deflate data ends.
    fn inflate_into(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            self.available()?;
            let input = self.input.get(self.input_pos..).unwrap_or(&[]);
            let input_was_empty = input.is_empty();
            let result = inflate(&mut self.inflater, input, out, MZFlush::None);
            self.input_pos += result.bytes_consumed;
            let written = out.get(..result.bytes_written).unwrap_or(&[]);
            self.crc.update(written);
            self.member_len = self.member_len.wrapping_add(written.len() as u32);
            match result.status {
                Ok(MZStatus::StreamEnd) => {
                    self.phase = Phase::Trailer;
                    return Ok(written.len());
                }
                Ok(_) | Err(MZError::Buf) => {
                    if !written.is_empty() {
                        return Ok(written.len());
                    }
                    if result.bytes_consumed == 0 {
                        // Empty input here means the inner reader has ended
                        // (`available` refills otherwise).
                        return Err(if input_was_empty {
                            io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "the gzip stream ends inside its compressed data",
                            )
                        } else {
                            invalid("the deflate stream makes no progress")
                        });
                    }
                }
                Err(_) => return Err(invalid("corrupt deflate stream")),
            }
        }
    }
}

impl<R: Read> Read for GzipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.phase {
                Phase::Header => {
                    self.read_header()?;
                    self.phase = Phase::Body;
                }
                Phase::Body => {
                    // Never inflate more than one byte past the cap.
                    let room = self
                        .max_output
                        .saturating_sub(self.produced)
                        .saturating_add(1);
                    let window = usize::try_from(room).unwrap_or(usize::MAX).min(out.len());
                    let n = self.inflate_into(out.get_mut(..window).unwrap_or_default())?;
                    self.produced = self.produced.saturating_add(n as u64);
                    if self.produced > self.max_output {
                        return Err(io::Error::other(OutputLimitExceeded {
                            limit_bytes: self.max_output,
                        }));
                    }
                    if n > 0 {
                        return Ok(n);
                    }
                }
                Phase::Trailer => {
                    self.read_trailer()?;
                    let more = self.all_members && !self.available()?.is_empty();
                    self.phase = if more { Phase::Header } else { Phase::Done };
                }
                Phase::Done => return Ok(0),
            }
        }
    }
}

fn invalid(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The CRC-32 of RFC 1952 (reflected polynomial 0xEDB88320), one table
/// lookup per byte: slower than a sliced table, but 1 KB instead of 16 KB.
#[derive(Debug, Clone, Copy)]
struct Crc32(u32);

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

impl Crc32 {
    fn new() -> Self {
        Crc32(!0)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = CRC_TABLE[((self.0 ^ u32::from(b)) & 0xff) as usize] ^ (self.0 >> 8);
        }
    }

    fn value(&self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn decode(reader: impl Read) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut out)?;
        Ok(out)
    }

    /// A reader handing out `chunk` bytes per call, to cross chunk edges.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i * 7 % 251) as u8 ^ (i / 1000) as u8)
            .collect()
    }

    #[test]
    fn crc_matches_the_check_value() {
        let mut crc = Crc32::new();
        crc.update(b"123456789");
        assert_eq!(crc.value(), 0xcbf4_3926);
    }

    #[test]
    fn decodes_what_flate2_encodes_across_chunk_edges() {
        let data = sample(300_000);
        let packed = gzip(&data);
        assert_eq!(decode(GzipReader::new(packed.as_slice())).unwrap(), data);
        for chunk in [1, 7, 4096] {
            let trickle = Trickle {
                data: &packed,
                chunk,
            };
            assert_eq!(decode(GzipReader::new(trickle)).unwrap(), data, "{chunk}");
        }
    }

    #[test]
    fn decodes_header_fields_and_empty_members() {
        let mut encoder = flate2::GzBuilder::new()
            .filename("day.js")
            .comment("note")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::fast());
        encoder.write_all(b"{\"builds\": []}").unwrap();
        let packed = encoder.finish().unwrap();
        assert_eq!(
            decode(GzipReader::new(packed.as_slice())).unwrap(),
            b"{\"builds\": []}"
        );
        assert!(decode(GzipReader::new(gzip(b"").as_slice()))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn first_member_only_unless_multi_member() {
        let mut packed = gzip(b"one ");
        packed.extend(gzip(b"two"));
        assert_eq!(decode(GzipReader::new(packed.as_slice())).unwrap(), b"one ");
        assert_eq!(
            decode(GzipReader::multi_member(packed.as_slice())).unwrap(),
            b"one two"
        );
    }

    #[test]
    fn rejects_corruption_and_truncation() {
        let data = sample(10_000);
        let packed = gzip(&data);
        let mut bad_crc = packed.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        let err = decode(GzipReader::new(bad_crc.as_slice())).unwrap_err();
        assert!(err.to_string().contains("CRC-32"), "{err}");
        for cut in [1, 5, 12, packed.len() / 2, packed.len() - 3] {
            assert!(
                decode(GzipReader::new(&packed[..cut])).is_err(),
                "cut at {cut}"
            );
        }
        assert!(decode(GzipReader::new(&b"plain text"[..])).is_err());
        let mut bad_deflate = packed.clone();
        bad_deflate[10] = 0xff;
        assert!(decode(GzipReader::new(bad_deflate.as_slice())).is_err());
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let packed = gzip(&sample(2_000));
        for i in 0..packed.len() {
            let mut mutated = packed.clone();
            mutated[i] = mutated[i].wrapping_add(0x5b);
            let _ = decode(GzipReader::multi_member(mutated.as_slice()));
        }
    }

    #[test]
    fn output_cap_stops_a_bomb_at_the_cap() {
        // 64 MB of zeros compress to ~64 KB; capped at 1 MB it stops there.
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..64 {
            encoder.write_all(&zeros).unwrap();
        }
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 128 * 1024, "{}", bomb.len());
        let mut reader = GzipReader::multi_member(bomb.as_slice()).max_output(1024 * 1024);
        let mut out = Vec::new();
        let error = reader.read_to_end(&mut out).unwrap_err();
        assert_eq!(OutputLimitExceeded::in_io_error(&error), Some(1024 * 1024));
        assert!(out.len() <= 1024 * 1024, "{}", out.len());
        // Exactly at the cap is still fine.
        let exact = gzip(&sample(1000));
        let decoded = decode(GzipReader::new(exact.as_slice()).max_output(1000)).unwrap();
        assert_eq!(decoded, sample(1000));
        let over = decode(GzipReader::new(exact.as_slice()).max_output(999)).unwrap_err();
        assert_eq!(OutputLimitExceeded::in_io_error(&over), Some(999));
    }
}
