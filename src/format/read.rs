//! Row readers for insert input, turning a byte stream into rows of [`Value`]s of the table's column
//! types: [`NativeReader`] here; `TabSeparated`, `CSV` and `JSONEachRow` in [`crate::format::input`]
//! (made by [`crate::Client::input_rows`], which reads them exactly as the server does).
//!
//! Every error is an [`Error::Input`] with the row, the line it starts on and the column; a reader stops
//! at the first error, so a caller that has sent only whole earlier rows reports exactly those.

use crate::error::{Error, Result};
use crate::native::{BlockBytes, BlockDecoder};
use crate::types::TypeDesc;
use crate::value::Value;
use std::io::BufRead;

/// Reads rows of values.
pub trait RowReader {
    /// Fills `row` (cleared first) with the next row; false at the end of the input.
    fn next_row(&mut self, row: &mut Vec<Value<'static>>) -> Result<bool>;
    /// The 1-based row last read and the line it starts on (0 for formats without lines).
    fn position(&self) -> (u64, u64);
}

/// Rows handed from the reading thread to the writing one at a time.
const COPY_BATCH: usize = 2048;

/// A batch of rows in flight, each with its input row and line.
type RowBatch = Vec<(Vec<Value<'static>>, (u64, u64))>;

/// Writes every row `rows` reads into `inserter`, calling `each` with the count of rows read, until
/// the input ends or a row is bad. Returns the rows written and the error that stopped the copy —
/// bad input, or a value the column does not take ([`Error::Input`], with the input's row, line and
/// column); the rows before it are written whole, the bad row and everything after it not at all. A
/// failure of the insert itself (the server, the connection) is the `Err`.
///
/// Reading (and parsing) runs on the calling thread and writing (converting into column builders) on
/// another, with batches of rows between them; a batch's row vectors come back to be refilled.
pub fn copy_rows(
    rows: &mut dyn RowReader,
    inserter: &mut crate::Inserter,
    mut each: impl FnMut(u64),
) -> Result<(u64, Option<Error>)> {
    use std::sync::mpsc::sync_channel;
    let (to_writer, batches) = sync_channel::<RowBatch>(4);
    let (to_reader, returned) = sync_channel::<RowBatch>(6);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<(u64, Option<Error>)> {
            let mut written = 0u64;
            for batch in batches {
                for (row, (at, line)) in &batch {
                    match inserter.write(row) {
                        Ok(()) => written += 1,
                        Err(Error::Input { column, message, .. }) => {
                            let e = Error::Input { row: *at, line: *line, column, message };
                            return Ok((written, Some(e)));
                        }
                        Err(e) => return Err(e),
                    }
                }
                let _ = to_reader.try_send(batch);
            }
            Ok((written, None))
        });
        let mut read = 0u64;
        let mut read_error = None;
        let mut batch: RowBatch = Vec::new();
        let mut used = 0;
        loop {
            if used == batch.len() {
                batch.push((Vec::new(), (0, 0)));
            }
            let slot = &mut batch[used];
            match rows.next_row(&mut slot.0) {
                Ok(true) => slot.1 = rows.position(),
                Ok(false) => break,
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
            used += 1;
            read += 1;
            each(read);
            if used == COPY_BATCH {
                if to_writer.send(std::mem::take(&mut batch)).is_err() {
                    break; // the writer stopped: its result says why
                }
                batch = returned.try_recv().unwrap_or_default();
                used = 0;
            }
        }
        batch.truncate(used);
        if !batch.is_empty() {
            let _ = to_writer.send(batch);
        }
        drop(to_writer);
        let (written, write_error) = writer.join().map_err(|_| Error::internal("the row writer panicked"))??;
        // The writer stops at the first bad value, which comes before anything the reader met later.
        Ok((written, write_error.or(read_error)))
    })
}

/// The input formats `chc insert` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    JsonEachRow,
    /// Tab-separated, escaped fields.
    TabSeparated,
    /// Comma-separated, double-quoted fields.
    Csv,
    /// ClickHouse's columnar blocks.
    Native,
}

impl InputFormat {
    /// `JSONEachRow`, `TSV`/`TabSeparated`, `CSV`, `Native` (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "jsoneachrow" | "jsonl" | "ndjson" => InputFormat::JsonEachRow,
            "tsv" | "tabseparated" => InputFormat::TabSeparated,
            "csv" => InputFormat::Csv,
            "native" => InputFormat::Native,
            _ => return None,
        })
    }
}

fn input_error(row: u64, line: u64, column: Option<&str>, message: impl Into<String>) -> Error {
    // Messages quote the bad input; whatever quoted it, a message stays short.
    let message = message.into();
    let message = if message.len() > 400 { crate::error::excerpt(message.as_bytes(), 400) } else { message };
    let column = column.map(|c| crate::error::excerpt(c.as_bytes(), crate::error::EXCERPT));
    Error::Input { row, line, column, message }
}

/// `Native`: blocks as the server writes them; columns are matched by name.
///
/// Read row by row ([`RowReader`]), or block by block with [`NativeReader::for_each_block`], which also
/// hands over each block's exact bytes so that a block already in the table's shape can be sent on as
/// it is ([`crate::Inserter::write_native_block`]) instead of being decoded into values and re-encoded.
pub struct NativeReader<R> {
    src: NativeBlocks<R>,
    columns: Vec<(String, TypeDesc)>,
    pending: std::collections::VecDeque<Vec<Value<'static>>>,
    row: u64,
}

/// The Native input decoded block by block, keeping the bytes of the block being read.
struct NativeBlocks<R> {
    input: R,
    decoder: BlockDecoder,
    buf: Vec<u8>,
    block: BlockBytes,
    /// Rows in the blocks handed out so far.
    rows: u64,
    done: bool,
}

impl<R: BufRead> NativeBlocks<R> {
    /// Reads one chunk and hands every block it completes to `f` with its bytes. `false` at the end.
    fn pump(&mut self, f: &mut dyn FnMut(&crate::native::Block<'_>, &[u8]) -> Result<()>) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        let at = self.rows + 1;
        let n = self.input.read(&mut self.buf).map_err(|e| input_error(at, 0, None, format!("read failed: {e}")))?;
        if n == 0 {
            self.done = true;
            self.decoder.finish().map_err(|e| input_error(at, 0, None, e.to_string()))?;
            return Ok(false);
        }
        let mut chunk = &self.buf[..n];
        loop {
            let at = self.rows + 1;
            let fed = self.block.feed(&mut self.decoder, &mut chunk);
            let Some((block, raw)) = fed.map_err(|e| input_error(at, 0, None, e.to_string()))? else {
                return Ok(true);
            };
            f(&block, raw)?;
            self.rows += block.rows() as u64;
        }
    }
}

impl<R: BufRead> NativeReader<R> {
    /// A reader over `input`.
    pub fn new(input: R, columns: Vec<(String, TypeDesc)>) -> Self {
        NativeReader {
            src: NativeBlocks {
                input,
                decoder: BlockDecoder::new(),
                buf: vec![0; 1 << 16],
                block: BlockBytes::new(),
                rows: 0,
                done: false,
            },
            columns,
            pending: Default::default(),
            row: 0,
        }
    }

    /// Reads the whole input, handing each decoded block and its exact bytes to `f` (an error from `f`
    /// stops the reading). Mixing this with [`RowReader::next_row`] on one reader is not supported.
    pub fn for_each_block(&mut self, mut f: impl FnMut(&crate::native::Block<'_>, &[u8]) -> Result<()>) -> Result<()> {
        while self.src.pump(&mut f)? {}
        Ok(())
    }
}

/// A Native `block`'s rows as values of the table's `columns` (matched by name, in the table's order),
/// each handed to `f`; `first_row` (1-based, in the whole input) is for error messages.
pub fn native_block_rows(
    columns: &[(String, TypeDesc)],
    block: &crate::native::Block<'_>,
    first_row: u64,
    mut f: impl FnMut(Vec<Value<'static>>) -> Result<()>,
) -> Result<()> {
    let mut index = Vec::with_capacity(columns.len());
    for (name, _) in columns {
        let i = block.columns().iter().position(|c| c.name() == name);
        index.push(i.ok_or_else(|| input_error(first_row, 0, Some(name), "not in the Native input"))?);
    }
    for r in 0..block.rows() {
        f(index.iter().map(|&i| block.columns()[i].column().value(r).into_owned()).collect())?;
    }
    Ok(())
}

impl<R: BufRead> RowReader for NativeReader<R> {
    fn position(&self) -> (u64, u64) {
        (self.row, 0)
    }

    fn next_row(&mut self, row: &mut Vec<Value<'static>>) -> Result<bool> {
        row.clear();
        while self.pending.is_empty() {
            let (columns, pending, first) = (&self.columns, &mut self.pending, self.row + 1);
            if !self.src.pump(&mut |block, _| {
                native_block_rows(columns, block, first, |r| {
                    pending.push_back(r);
                    Ok(())
                })
            })? {
                return Ok(false);
            }
        }
        self.row += 1;
        *row = self.pending.pop_front().unwrap_or_default();
        Ok(true)
    }
}
