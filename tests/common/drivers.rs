//! One test body, two drivers: the blocking [`Client`] and the [`AsyncClient`] (on a tokio runtime),
//! behind one set of methods, so a behaviour test runs against both. Included by the test files that
//! use it (`#[path = "common/drivers.rs"] mod drivers;`), next to `mod common;`.
#![allow(dead_code)]

use clickhouse_connect::{
    AsyncClient, CallOptions, Client, ClientOptions, CommandResult, InsertSummary, QueryResult, Result, Value,
};
use futures_util::StreamExt;

/// A streaming insert of either driver.
pub enum Ins<'d> {
    Blocking(clickhouse_connect::Inserter),
    Async(clickhouse_connect::AsyncInserter, &'d tokio::runtime::Runtime),
}

impl Ins<'_> {
    pub fn write(&mut self, row: &[Value<'_>]) -> Result<()> {
        match self {
            Ins::Blocking(i) => i.write(row),
            Ins::Async(i, rt) => rt.block_on(i.write(row)),
        }
    }

    pub fn write_columns(&mut self, columns: &[&[Value<'_>]]) -> Result<()> {
        match self {
            Ins::Blocking(i) => i.write_columns(columns),
            Ins::Async(i, rt) => rt.block_on(i.write_columns(columns)),
        }
    }

    pub fn columns(&self) -> &[(String, String)] {
        match self {
            Ins::Blocking(i) => i.columns(),
            Ins::Async(i, _) => i.columns(),
        }
    }

    pub fn flush(&mut self) -> Result<()> {
        match self {
            Ins::Blocking(i) => i.flush(),
            Ins::Async(i, rt) => rt.block_on(i.flush()),
        }
    }

    pub fn end(self) -> Result<InsertSummary> {
        match self {
            Ins::Blocking(i) => i.end(),
            Ins::Async(i, rt) => rt.block_on(i.end()),
        }
    }
}

/// A client under test.
pub enum Driver {
    Blocking(Box<Client>),
    Async(AsyncClient, tokio::runtime::Runtime),
}

/// A multi-threaded tokio runtime with two workers (the machine's cores).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

impl Driver {
    /// Both drivers on the server of `var`, with `options` changed by `f`.
    pub fn both_with(var: &str, f: impl Fn(&mut ClientOptions)) -> Vec<Driver> {
        Driver::both_named(var, |o, _| f(o))
    }

    /// Both drivers on the server of `var`, with `options` changed by `f`, which is told which driver
    /// it sets up (`"blocking"`, `"async"`): for options that must differ, such as session ids.
    pub fn both_named(var: &str, f: impl Fn(&mut ClientOptions, &str)) -> Vec<Driver> {
        let mut o = crate::common::options(var);
        f(&mut o, "blocking");
        let blocking = Client::new(o).unwrap_or_else(|e| panic!("{var}: {e}"));
        let mut o = crate::common::options(var);
        f(&mut o, "async");
        let rt = runtime();
        let asynch = rt.block_on(AsyncClient::connect(o)).unwrap_or_else(|e| panic!("{var} (async): {e}"));
        vec![Driver::Blocking(Box::new(blocking)), Driver::Async(asynch, rt)]
    }

    /// Both drivers on the server of `var`.
    pub fn both(var: &str) -> Vec<Driver> {
        Driver::both_with(var, |_| {})
    }

    /// The blocking client itself (of a blocking driver; else the async one's underneath is not movable).
    pub fn into_blocking(self) -> Client {
        match self {
            Driver::Blocking(c) => *c,
            Driver::Async(..) => panic!("not a blocking driver"),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Driver::Blocking(_) => "blocking",
            Driver::Async(..) => "async",
        }
    }

    /// The blocking client (for set-up and checks that are not under test).
    pub fn blocking(&self) -> &Client {
        match self {
            Driver::Blocking(c) => c,
            Driver::Async(c, _) => c.blocking(),
        }
    }

    pub fn command(&self, sql: &str) -> Result<CommandResult> {
        self.command_with(sql, &CallOptions::default())
    }

    pub fn command_with(&self, sql: &str, opts: &CallOptions) -> Result<CommandResult> {
        match self {
            Driver::Blocking(c) => c.command_with(sql, opts),
            Driver::Async(c, rt) => rt.block_on(c.command_with(sql, opts)),
        }
    }

    pub fn query(&self, sql: &str) -> Result<QueryResult> {
        self.query_with(sql, &CallOptions::default())
    }

    pub fn query_with(&self, sql: &str, opts: &CallOptions) -> Result<QueryResult> {
        match self {
            Driver::Blocking(c) => c.query_with(sql, opts),
            Driver::Async(c, rt) => rt.block_on(c.query_with(sql, opts)),
        }
    }

    pub fn raw_query_with(&self, sql: &str, format: Option<&str>, opts: &CallOptions) -> Result<Vec<u8>> {
        match self {
            Driver::Blocking(c) => c.raw_query_with(sql, format, opts),
            Driver::Async(c, rt) => rt.block_on(c.raw_query_with(sql, format, opts)),
        }
    }

    /// Every block's rows, block by block, through the streaming path.
    pub fn blocks_with(&self, sql: &str, opts: &CallOptions) -> Result<Vec<Vec<Vec<Value<'static>>>>> {
        let rows_of = |b: &clickhouse_connect::native::Block<'_>| -> Vec<Vec<Value<'static>>> {
            (0..b.rows()).map(|r| b.row(r).into_iter().map(Value::into_owned).collect()).collect()
        };
        match self {
            Driver::Blocking(c) => {
                let mut out = Vec::new();
                c.query_blocks_with(sql, opts, |b| {
                    out.push(rows_of(b));
                    Ok(())
                })?;
                Ok(out)
            }
            Driver::Async(c, rt) => rt.block_on(async {
                let mut out = Vec::new();
                let mut s = c.query_blocks_with(sql, opts);
                while let Some(b) = s.next().await {
                    out.push(rows_of(&b?.block()));
                }
                Ok(out)
            }),
        }
    }

    /// Each block of a query through the streaming path, handed to `f` as it arrives (rows may be read
    /// from it borrowing, `Block::rows_as`); an error from `f` ends the query and is returned.
    pub fn for_each_block_with(
        &self,
        sql: &str,
        opts: &CallOptions,
        mut f: impl FnMut(&clickhouse_connect::native::Block<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Driver::Blocking(c) => c.query_blocks_with(sql, opts, f).map(|_| ()),
            Driver::Async(c, rt) => rt.block_on(async {
                let mut s = c.query_blocks_with(sql, opts);
                while let Some(b) = s.next().await {
                    f(&b?.block())?;
                }
                Ok(())
            }),
        }
    }

    /// Rows of a query through the streaming path, counted and dropped block by block.
    pub fn count_blocks_with(&self, sql: &str, opts: &CallOptions) -> Result<usize> {
        match self {
            Driver::Blocking(c) => {
                let mut n = 0;
                c.query_blocks_with(sql, opts, |b| {
                    n += b.rows();
                    Ok(())
                })?;
                Ok(n)
            }
            Driver::Async(c, rt) => rt.block_on(async {
                let mut n = 0;
                let mut s = c.query_blocks_with(sql, opts);
                while let Some(b) = s.next().await {
                    n += b?.rows();
                }
                Ok(n)
            }),
        }
    }

    /// The statements at once (threads for the blocking client, tasks for the async one), results in
    /// order.
    pub fn concurrent_commands(&self, sqls: &[String]) -> Vec<Result<CommandResult>> {
        match self {
            Driver::Blocking(c) => std::thread::scope(|s| {
                let handles: Vec<_> = sqls.iter().map(|q| s.spawn(move || c.command(q))).collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            }),
            Driver::Async(c, rt) => rt.block_on(async {
                let handles: Vec<_> = sqls
                    .iter()
                    .map(|q| {
                        let (c, q) = (c.clone(), q.clone());
                        tokio::spawn(async move { c.command(&q).await })
                    })
                    .collect();
                let mut out = Vec::new();
                for h in handles {
                    out.push(h.await.unwrap());
                }
                out
            }),
        }
    }

    pub fn command_with_data(&self, sql: &str, data: &[u8], opts: &CallOptions) -> Result<CommandResult> {
        match self {
            Driver::Blocking(c) => c.command_with_data(sql, data, opts),
            Driver::Async(c, rt) => rt.block_on(c.command_with_data(sql, data, opts)),
        }
    }

    pub fn insert_columns_with(
        &self,
        table: &str,
        columns: &[&str],
        data: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<()> {
        match self {
            Driver::Blocking(c) => c.insert_columns_with(table, columns, data, opts),
            Driver::Async(c, rt) => rt.block_on(c.insert_columns_with(table, columns, data, opts)),
        }
    }

    pub fn insert_with_types(&self, table: &str, columns: &[(&str, &str)], rows: &[Vec<Value<'_>>]) -> Result<()> {
        self.insert_with_types_with(table, columns, rows, &CallOptions::default())
    }

    pub fn insert_with_types_with(
        &self,
        table: &str,
        columns: &[(&str, &str)],
        rows: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<()> {
        match self {
            Driver::Blocking(c) => c.insert_with_types_with(table, columns, rows, opts),
            Driver::Async(c, rt) => rt.block_on(c.insert_with_types_with(table, columns, rows, opts)),
        }
    }

    pub fn raw_insert_with(
        &self,
        table: &str,
        columns: &[&str],
        format: &str,
        data: &[u8],
        opts: &CallOptions,
    ) -> Result<()> {
        match self {
            Driver::Blocking(c) => c.raw_insert_with(table, columns, format, data, opts),
            Driver::Async(c, rt) => rt.block_on(c.raw_insert_with(table, columns, format, data, opts)),
        }
    }

    pub fn insert_block(
        &self,
        table: &str,
        columns: &[(&str, &dyn clickhouse_connect::native::ColumnEncoder)],
    ) -> Result<()> {
        match self {
            Driver::Blocking(c) => c.insert_block(table, columns),
            Driver::Async(c, rt) => rt.block_on(c.insert_block_with(table, columns, &CallOptions::default())),
        }
    }

    pub fn insert(&self, table: &str, columns: &[&str], rows: &[Vec<Value<'_>>]) -> Result<()> {
        self.insert_with(table, columns, rows, &CallOptions::default())
    }

    pub fn raw_insert(&self, table: &str, columns: &[&str], format: &str, data: &[u8]) -> Result<()> {
        self.raw_insert_with(table, columns, format, data, &CallOptions::default())
    }

    pub fn insert_with(
        &self,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<()> {
        match self {
            Driver::Blocking(c) => c.insert_with(table, columns, rows, opts),
            Driver::Async(c, rt) => rt.block_on(c.insert_with(table, columns, rows, opts)),
        }
    }

    /// A streaming insert, open.
    pub fn open_inserter(
        &self,
        table: &str,
        columns: &[&str],
        block_rows: usize,
        opts: &CallOptions,
    ) -> Result<Ins<'_>> {
        match self {
            Driver::Blocking(c) => Ok(Ins::Blocking(c.inserter_with(table, columns, block_rows, opts)?)),
            Driver::Async(c, rt) => Ok(Ins::Async(rt.block_on(c.inserter_with(table, columns, block_rows, opts))?, rt)),
        }
    }

    /// A streaming insert of `rows`, in blocks of `block_rows`.
    pub fn inserter(
        &self,
        table: &str,
        columns: &[&str],
        block_rows: usize,
        rows: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<InsertSummary> {
        match self {
            Driver::Blocking(c) => {
                let mut ins = c.inserter_with(table, columns, block_rows, opts)?;
                for r in rows {
                    ins.write(r)?;
                }
                ins.end()
            }
            Driver::Async(c, rt) => rt.block_on(async {
                let mut ins = c.inserter_with(table, columns, block_rows, opts).await?;
                for r in rows {
                    ins.write(r).await?;
                }
                ins.end().await
            }),
        }
    }

    pub fn query_as<T: serde::de::DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>> {
        self.query_as_with(sql, &CallOptions::default())
    }

    pub fn query_as_with<T: serde::de::DeserializeOwned>(&self, sql: &str, opts: &CallOptions) -> Result<Vec<T>> {
        match self {
            Driver::Blocking(c) => c.query_as_with(sql, opts),
            Driver::Async(c, rt) => rt.block_on(c.query_as_with(sql, opts)),
        }
    }

    pub fn insert_as<T: serde::Serialize>(&self, table: &str, rows: &[T]) -> Result<InsertSummary> {
        self.insert_as_with(table, rows, &CallOptions::default())
    }

    pub fn insert_as_with<T: serde::Serialize>(
        &self,
        table: &str,
        rows: &[T],
        opts: &CallOptions,
    ) -> Result<InsertSummary> {
        match self {
            Driver::Blocking(c) => c.insert_as_with(table, rows, opts),
            Driver::Async(c, rt) => rt.block_on(c.insert_as_with(table, rows, opts)),
        }
    }

    /// A typed streaming insert, open.
    pub fn inserter_as<T: serde::Serialize>(&self, table: &str, block_rows: usize) -> Result<TypedIns<'_, T>> {
        match self {
            Driver::Blocking(c) => Ok(TypedIns::Blocking(c.inserter_as::<T>(table, block_rows)?)),
            Driver::Async(c, rt) => Ok(TypedIns::Async(rt.block_on(c.inserter_as::<T>(table, block_rows))?, rt)),
        }
    }

    /// [`Driver::inserter_as`] with per-call options.
    pub fn inserter_as_with<T: serde::Serialize>(
        &self,
        table: &str,
        block_rows: usize,
        opts: &CallOptions,
    ) -> Result<TypedIns<'_, T>> {
        match self {
            Driver::Blocking(c) => Ok(TypedIns::Blocking(c.inserter_as_with::<T>(table, block_rows, opts)?)),
            Driver::Async(c, rt) => {
                Ok(TypedIns::Async(rt.block_on(c.inserter_as_with::<T>(table, block_rows, opts))?, rt))
            }
        }
    }

    pub fn raw_query(&self, sql: &str, format: Option<&str>) -> Result<Vec<u8>> {
        self.raw_query_with(sql, format, &CallOptions::default())
    }
}

/// A typed streaming insert of either driver.
pub enum TypedIns<'d, T> {
    Blocking(clickhouse_connect::TypedInserter<T>),
    Async(clickhouse_connect::AsyncTypedInserter<T>, &'d tokio::runtime::Runtime),
}

impl<T: serde::Serialize> TypedIns<'_, T> {
    pub fn write(&mut self, row: &T) -> Result<()> {
        match self {
            TypedIns::Blocking(i) => i.write(row),
            TypedIns::Async(i, rt) => rt.block_on(i.write(row)),
        }
    }

    pub fn end(self) -> Result<InsertSummary> {
        match self {
            TypedIns::Blocking(i) => i.end(),
            TypedIns::Async(i, rt) => rt.block_on(i.end()),
        }
    }
}
