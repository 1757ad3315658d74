//! Rows as Rust types on the async client (feature `async`): `query_as`, `insert_as` and a typed
//! streaming insert, on the same readers and writers as the blocking client's.

use super::ser::TypedInserter;
use crate::client::nonblocking::inserter::{answered, room};
use crate::client::nonblocking::stream::collect;
use crate::{AsyncClient, AsyncInserter, CallOptions, InsertSummary, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

impl AsyncClient {
    /// Every row as a `T` ([`crate::Client::query_as`]).
    pub async fn query_as<T: DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>> {
        self.query_as_with(sql, &CallOptions::default()).await
    }

    /// [`AsyncClient::query_as`] with per-call options.
    pub async fn query_as_with<T: DeserializeOwned>(&self, sql: &str, opts: &CallOptions) -> Result<Vec<T>> {
        crate::client::only_query_decodes(opts)?;
        super::refuse_nulls_as_defaults(opts)?;
        let mut rows = Vec::new();
        collect(self.whole(sql, opts), |b| {
            rows.extend(super::owned_rows::<T>(&b.block(), rows.len() as u64)?);
            Ok(())
        })
        .await?;
        Ok(rows)
    }

    /// Rows as `T` into the table ([`crate::Client::insert_as`]).
    pub async fn insert_as<T: Serialize>(&self, table: &str, rows: &[T]) -> Result<InsertSummary> {
        self.insert_as_with(table, rows, &CallOptions::default()).await
    }

    /// [`AsyncClient::insert_as`] with per-call options.
    pub async fn insert_as_with<T: Serialize>(
        &self,
        table: &str,
        rows: &[T],
        opts: &CallOptions,
    ) -> Result<InsertSummary> {
        if rows.is_empty() {
            return Ok(InsertSummary::default());
        }
        let mut ins = self.inserter_as_with::<T>(table, rows.len().min(1 << 16), opts).await?;
        for r in rows {
            ins.write(r).await?;
        }
        ins.end().await
    }

    /// A streaming insert of rows of one Rust type ([`crate::Client::inserter_as`]).
    pub async fn inserter_as<T: Serialize + ?Sized>(
        &self,
        table: &str,
        block_rows: usize,
    ) -> Result<AsyncTypedInserter<T>> {
        self.inserter_as_with(table, block_rows, &CallOptions::default()).await
    }

    /// [`AsyncClient::inserter_as`] with per-call options.
    pub async fn inserter_as_with<T: Serialize + ?Sized>(
        &self,
        table: &str,
        block_rows: usize,
        opts: &CallOptions,
    ) -> Result<AsyncTypedInserter<T>> {
        Ok(self.inserter_with(table, &[], block_rows, opts).await?.typed())
    }
}

impl AsyncInserter {
    /// The same insert for rows of one Rust type ([`crate::TypedInserter`]); call before writing.
    pub fn typed<T: Serialize + ?Sized>(self) -> AsyncTypedInserter<T> {
        AsyncTypedInserter { inner: TypedInserter::from_inserter(self.into_inner()) }
    }
}

/// [`AsyncInserter`] for rows of one Rust type, as [`crate::TypedInserter`] (its rules and guarantees).
pub struct AsyncTypedInserter<T: ?Sized> {
    inner: TypedInserter<T>,
}

impl<T: Serialize + ?Sized> AsyncTypedInserter<T> {
    /// Appends one row ([`crate::TypedInserter::write`]); waits while the request has blocks queued.
    pub async fn write(&mut self, row: &T) -> Result<()> {
        room(self.inner.inserter()).await;
        self.inner.write(row)
    }

    /// Sends the rows written so far as one block.
    pub async fn flush(&mut self) -> Result<()> {
        room(self.inner.inserter()).await;
        self.inner.flush()
    }

    /// Sends what is left and waits for the server to acknowledge the whole insert.
    pub async fn end(mut self) -> Result<InsertSummary> {
        // A failure here has finished the insert; the blocking `end` reports it with the counts.
        let _ = answered(self.inner.inserter_mut()).await;
        self.inner.end()
    }

    /// Rows the server has acknowledged so far.
    pub fn acknowledged_rows(&self) -> u64 {
        self.inner.acknowledged_rows()
    }

    /// The columns being inserted, with their types.
    pub fn columns(&self) -> &[(String, String)] {
        self.inner.columns()
    }
}
