//! Row-wise streaming and typed column access (the Python driver's `query_np` analogue).
//!
//! `query_column::<T>` collects one column of a result straight into a `Vec<T>`: numeric columns are
//! bulk-copied from the decoder's typed slices (no per-value work), String columns are cut from the
//! offsets and bytes, and a type mismatch is an error naming the column and its type.

use super::{CallOptions, Client};
use crate::error::{Error, Result};
use crate::native::ColumnView;
use crate::value::Value;

/// Element types a column can be collected into.
pub trait ColumnElement: Sized {
    /// Appends the column's values, or returns `false` if the column is not of this type.
    fn extend_from(view: &ColumnView<'_>, out: &mut Vec<Self>) -> bool;
}

macro_rules! numeric {
    ($($t:ty => $v:ident),*) => {$(
        impl ColumnElement for $t {
            fn extend_from(view: &ColumnView<'_>, out: &mut Vec<Self>) -> bool {
                match view {
                    ColumnView::$v(s) => {
                        out.extend_from_slice(s);
                        true
                    }
                    _ => false,
                }
            }
        }
    )*};
}
numeric!(u8 => UInt8, u16 => UInt16, u32 => UInt32, u64 => UInt64, u128 => UInt128, i8 => Int8, i16 => Int16,
    i32 => Int32, i64 => Int64, i128 => Int128, f32 => Float32, f64 => Float64);

impl ColumnElement for String {
    fn extend_from(view: &ColumnView<'_>, out: &mut Vec<Self>) -> bool {
        let ColumnView::String { offsets, data } = view else { return false };
        out.reserve(offsets.len());
        for row in offsets.ranges() {
            out.push(String::from_utf8_lossy(data.get(row).unwrap_or(&[])).into_owned());
        }
        true
    }
}

impl ColumnElement for Vec<u8> {
    fn extend_from(view: &ColumnView<'_>, out: &mut Vec<Self>) -> bool {
        let ColumnView::String { offsets, data } = view else { return false };
        out.reserve(offsets.len());
        for row in offsets.ranges() {
            out.push(data.get(row).unwrap_or(&[]).to_vec());
        }
        true
    }
}

/// `Nullable(T)` columns collect into `Option<T>` (NULL is `None`); any other column of `T` into
/// `Some` values.
impl<T: ColumnElement> ColumnElement for Option<T> {
    fn extend_from(view: &ColumnView<'_>, out: &mut Vec<Self>) -> bool {
        let mut inner = Vec::new();
        match view {
            ColumnView::Nullable { nulls, inner: column } => {
                if !T::extend_from(&column.view(), &mut inner) || inner.len() != nulls.len() {
                    return false;
                }
                out.extend(inner.into_iter().zip(nulls.iter()).map(|(v, null)| (!null).then_some(v)));
                true
            }
            other => {
                if !T::extend_from(other, &mut inner) {
                    return false;
                }
                out.extend(inner.into_iter().map(Some));
                true
            }
        }
    }
}

impl Client {
    /// Collects column `index` of a query's result into a `Vec<T>` (see [`ColumnElement`]): numeric
    /// columns as their Rust type (`Date` as `u16` days, `DateTime` as `u32` seconds, …), `String`
    /// columns as `String` (lossy UTF-8) or `Vec<u8>`.
    pub fn query_column<T: ColumnElement>(&self, sql: &str, index: usize) -> Result<Vec<T>> {
        self.query_column_with(sql, index, &CallOptions::default())
    }

    /// [`Client::query_column`] with per-call options.
    pub fn query_column_with<T: ColumnElement>(&self, sql: &str, index: usize, opts: &CallOptions) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_blocks_with(sql, opts, |block| {
            let col =
                block.columns().get(index).ok_or_else(|| Error::usage(format!("the result has no column {index}")))?;
            if !T::extend_from(&col.column().view(), &mut out) {
                return Err(Error::usage(format!(
                    "column {} has type {}, which is not {}",
                    col.name(),
                    col.type_name(),
                    std::any::type_name::<T>()
                )));
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Streams a query's rows: `on_row` gets each row's values (borrowing the current block).
    pub fn query_rows(&self, sql: &str, on_row: impl FnMut(&[Value<'_>]) -> Result<()>) -> Result<()> {
        self.query_rows_with(sql, &CallOptions::default(), on_row)
    }

    /// [`Client::query_rows`] with per-call options.
    pub fn query_rows_with(
        &self,
        sql: &str,
        opts: &CallOptions,
        mut on_row: impl FnMut(&[Value<'_>]) -> Result<()>,
    ) -> Result<()> {
        self.query_blocks_with(sql, opts, |block| {
            for r in 0..block.rows() {
                on_row(&block.row(r))?;
            }
            Ok(())
        })?;
        Ok(())
    }
}
