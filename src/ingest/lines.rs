//! Lines of a recorded-input file, each bounded: a line longer than the bound is consumed
//! without being kept (its first bytes are handed on, for a dead letter), so a file without a
//! newline cannot make a reader hold it whole.

use std::io::{BufRead, Read};

/// One line read.
pub enum Line<'a> {
    /// A line within the bound, without its `\n` or `\r\n`.
    Complete(&'a [u8]),
    /// A longer line: its first bytes, and its whole length.
    Oversized { head: &'a [u8], len: usize },
}

pub struct BoundedLines<R> {
    reader: R,
    max_line_bytes: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(reader: R, max_line_bytes: usize) -> Self {
        BoundedLines {
            reader,
            max_line_bytes,
            buf: Vec::with_capacity(4096),
        }
    }

    /// The next line and the bytes it took from the file (newline included); `None` at the
    /// end.
    pub fn next_line(&mut self) -> std::io::Result<Option<(Line<'_>, u64)>> {
        self.buf.clear();
        let limit = self.max_line_bytes as u64 + 1;
        let n = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        let complete = self.buf.last() == Some(&b'\n') || n < limit as usize;
        if !complete {
            let skipped = skip_line(&mut self.reader)?;
            let len = n + skipped as usize;
            return Ok(Some((
                Line::Oversized {
                    head: &self.buf,
                    len,
                },
                len as u64,
            )));
        }
        Ok(Some((Line::Complete(trim_newline(&self.buf)), n as u64)))
    }
}

fn trim_newline(buf: &[u8]) -> &[u8] {
    let buf = buf.strip_suffix(b"\n").unwrap_or(buf);
    buf.strip_suffix(b"\r").unwrap_or(buf)
}

/// Consumes the rest of an over-long line without keeping it.
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(skipped);
        }
        match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(skipped + i as u64 + 1);
            }
            None => {
                let n = chunk.len();
                reader.consume(n);
                skipped += n as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_whole_and_the_rest_read() {
        let text = b"short\r\n0123456789abcdef\nlast";
        let mut lines = BoundedLines::new(&text[..], 8);
        let mut seen = Vec::new();
        while let Some((line, bytes)) = lines.next_line().unwrap() {
            seen.push(match line {
                Line::Complete(l) => (String::from_utf8_lossy(l).into_owned(), bytes),
                Line::Oversized { len, .. } => (format!("oversized {len}"), bytes),
            });
        }
        assert_eq!(
            seen,
            [
                ("short".to_owned(), 7),
                ("oversized 17".to_owned(), 17),
                ("last".to_owned(), 4)
            ]
        );
    }
}
