//! `chc query --format ArrowStream | Parquet`: the decoded blocks as Arrow record batches
//! (clickhouse-connect's `Block::to_arrow`, the mapping documented in its `arrow` module), written as an
//! Arrow IPC stream or a Parquet file (arrow-rs's `parquet` writer, zstd, row groups of at most
//! 1,048,576 rows) to standard output. Memory stays at a block plus Parquet's open row group: the
//! batches are written as they arrive, never collected.

use clickhouse_connect::arrow::ArrowOptions;
use clickhouse_connect::{CallOptions, Client, Error, ResponseMeta, Result};
use std::io::Write;

/// The columnar formats chc writes itself.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Columnar {
    ArrowStream,
    Parquet,
}

impl Columnar {
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "arrowstream" | "arrow" => Some(Columnar::ArrowStream),
            "parquet" => Some(Columnar::Parquet),
            _ => None,
        }
    }

    /// The server's name of the format.
    pub fn server_name(self) -> &'static str {
        match self {
            Columnar::ArrowStream => "ArrowStream",
            Columnar::Parquet => "Parquet",
        }
    }
}

enum Writer<W: Write + Send> {
    None(Option<W>),
    Arrow(Box<arrow_ipc::writer::StreamWriter<W>>),
    Parquet(Box<parquet::arrow::ArrowWriter<W>>),
}

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Resource(format!("cannot write {what}: {e}"))
}

/// Runs `sql` and writes its result to `out` in `format`; returns the response's metadata and the rows
/// written. `Ok(None)` when the result had no block at all (no schema to write: the caller lets the
/// server write it).
pub fn query<W: Write + Send>(
    client: &Client,
    sql: &str,
    opts: &CallOptions,
    format: Columnar,
    out: W,
    mut on_rows: impl FnMut(u64),
) -> Result<Option<(ResponseMeta, u64)>> {
    let options = ArrowOptions::new();
    let mut writer = Writer::None(Some(out));
    let mut rows = 0u64;
    let meta = client.query_blocks_with(sql, opts, |block| {
        let batch = block.to_arrow(&options)?;
        if let Writer::None(out) = &mut writer {
            let out = out.take().ok_or_else(|| Error::Resource("the output went missing".into()))?;
            writer = match format {
                Columnar::ArrowStream => Writer::Arrow(Box::new(
                    arrow_ipc::writer::StreamWriter::try_new(out, &batch.schema()).map_err(|e| failed("Arrow", e))?,
                )),
                Columnar::Parquet => {
                    let props = parquet::file::properties::WriterProperties::builder()
                        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
                        .set_max_row_group_row_count(Some(1 << 20))
                        .build();
                    Writer::Parquet(Box::new(
                        parquet::arrow::ArrowWriter::try_new(out, batch.schema(), Some(props))
                            .map_err(|e| failed("Parquet", e))?,
                    ))
                }
            };
        }
        match &mut writer {
            Writer::Arrow(w) => w.write(&batch).map_err(|e| failed("Arrow", e))?,
            Writer::Parquet(w) => w.write(&batch).map_err(|e| failed("Parquet", e))?,
            Writer::None(_) => {}
        }
        rows += batch.num_rows() as u64;
        on_rows(rows);
        Ok(())
    })?;
    match writer {
        Writer::None(_) => Ok(None),
        Writer::Arrow(mut w) => {
            w.finish().map_err(|e| failed("Arrow", e))?;
            w.into_inner().map_err(|e| failed("Arrow", e))?.flush().map_err(|e| failed("Arrow", e))?;
            Ok(Some((meta, rows)))
        }
        Writer::Parquet(w) => {
            let mut out = w.into_inner().map_err(|e| failed("Parquet", e))?;
            out.flush().map_err(|e| failed("Parquet", e))?;
            Ok(Some((meta, rows)))
        }
    }
}
