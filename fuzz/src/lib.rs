//! Helpers shared by the fuzz targets: cutting one fuzz input into the
//! several arguments a parser takes, and into the chunk sizes a streaming
//! parser is fed with.

/// The byte that separates arguments inside one fuzz input. The seed script
/// (scripts/fuzz-smoke) joins fixture files with it; JSON and logs never
/// contain it, so a seed's fields stay whole.
pub const FIELD_SEPARATOR: u8 = 0;

/// The first `N - 1` separator-delimited fields of `data`, the last field
/// taking the rest (separators included); missing fields are empty.
pub fn fields<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for slot in out.iter_mut().take(N - 1) {
        match rest.iter().position(|b| *b == FIELD_SEPARATOR) {
            Some(at) => {
                *slot = &rest[..at];
                rest = &rest[at + 1..];
            }
            None => {
                *slot = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out[N - 1] = rest;
    out
}

/// Lossy text for parsers that take `&str` (invalid UTF-8 is itself a case
/// worth feeding the byte-level parsers, which get the raw bytes).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Splits an input into a chunking plan and the payload: the first byte
/// says how many chunk-size bytes follow (0-7), each giving a chunk length of
/// 1-256 bytes; the sizes repeat until the payload is used up. With no size
/// bytes the payload is fed one byte at a time, the harshest split.
pub fn chunk_plan(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&count, rest)) = data.split_first() else {
        return (vec![1], data);
    };
    let count = usize::from(count % 8).min(rest.len());
    let (size_bytes, payload) = rest.split_at(count);
    let mut sizes: Vec<usize> = size_bytes.iter().map(|b| usize::from(*b) + 1).collect();
    if sizes.is_empty() {
        sizes.push(1);
    }
    (sizes, payload)
}

/// Hands `payload` to `sink` in pieces of the given sizes, cycling through them.
pub fn feed_in_chunks(payload: &[u8], sizes: &[usize], mut sink: impl FnMut(&[u8])) {
    let mut rest = payload;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at((*size).min(rest.len()));
        sink(chunk);
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_on_the_separator_and_pad_with_empty_fields() {
        assert_eq!(fields::<3>(b"a\0b\0c\0d"), [&b"a"[..], b"b", b"c\0d"]);
        assert_eq!(fields::<3>(b"a"), [&b"a"[..], b"", b""]);
    }

    #[test]
    fn chunk_plan_reads_sizes_then_payload() {
        let (sizes, payload) = chunk_plan(&[2, 0, 9, b'x', b'y']);
        assert_eq!(sizes, vec![1, 10]);
        assert_eq!(payload, b"xy");
        let mut pieces = Vec::new();
        feed_in_chunks(b"abcdefghijklm", &[1, 10], |c| pieces.push(c.to_vec()));
        assert_eq!(
            pieces,
            vec![
                b"a".to_vec(),
                b"bcdefghijk".to_vec(),
                b"l".to_vec(),
                b"m".to_vec()
            ]
        );
    }
}
