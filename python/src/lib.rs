//! `clickhouse_connect_rs._core`: the Rust client as a Python extension module.
//!
//! This layer is thin on purpose: the Python package (`clickhouse_connect_rs`) gives the Python
//! driver's API (keyword handling, `QueryResult`, exceptions by kind), and this module gives it a
//! `Client` whose calls take plain Python values and run the Rust client with the GIL released while
//! bytes move. Values cross in `convert` (Python → `Value` for parameters and inserts, `Value` →
//! Python objects as the Python driver returns them, by column type).

#![deny(unsafe_code)]

mod convert;
mod ffi;

use clickhouse_connect::{CallOptions, Client, ClientOptions, Compression, Error, Value};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyTuple};
use std::time::Duration;

create_exception!(_core, ClickHouseError, PyException, "An error of the ClickHouse client or server.");

/// A Rust error as the Python exception the package maps by kind: args are (message, code, kind).
fn py_err(e: Error) -> PyErr {
    let code = e.server_code();
    // A failed insert's cause says what kind of failure it was (its accounting is in the message).
    let mut root = e.root();
    while let Error::Insert { cause, .. } = root {
        root = cause.root();
    }
    let kind = match root {
        Error::Server { .. } => "server",
        Error::Transport { .. } | Error::Http { .. } => "operational",
        Error::Usage(_) | Error::Input { .. } | Error::Mapping { .. } => "programming",
        Error::Decode { .. } | Error::TypeSyntax { .. } | Error::UnsupportedType(_) => "data",
        _ => "internal",
    };
    ClickHouseError::new_err((e.to_string(), code, kind))
}

/// The Rust client, shared by Python threads (calls release the GIL).
#[pyclass(frozen, module = "clickhouse_connect_rs._core")]
struct NativeClient {
    inner: Client,
}

/// Per-call options from the Python arguments.
fn call_options(
    parameters: Option<&Bound<'_, PyAny>>,
    settings: Option<&Bound<'_, PyDict>>,
    use_database: bool,
) -> PyResult<CallOptions> {
    let mut opts = CallOptions { use_database, ..CallOptions::default() };
    if let Some(s) = settings {
        opts.settings = settings_list(s)?;
    }
    if let Some(p) = parameters.filter(|p| !p.is_none()) {
        if let Ok(d) = p.cast::<PyDict>() {
            for (k, v) in d.iter() {
                opts.params.push((k.extract::<String>()?, convert::to_value(&v)?));
            }
        } else {
            for v in p.try_iter()? {
                opts.args.push(convert::to_value(&v?)?);
            }
        }
    }
    Ok(opts)
}

/// A dict of settings as (name, text) pairs: booleans as 1/0, as the Python driver sends them.
fn settings_list(d: &Bound<'_, PyDict>) -> PyResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (k, v) in d.iter() {
        let text = if let Ok(b) = v.extract::<bool>() {
            if b { "1".to_string() } else { "0".to_string() }
        } else {
            v.str()?.to_string()
        };
        out.push((k.extract::<String>()?, text));
    }
    Ok(out)
}

#[pymethods]
impl NativeClient {
    /// Connects with options given as a dict of the Python driver's parameter names (already
    /// checked by the package) and settings.
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>, settings: &Bound<'_, PyDict>) -> PyResult<NativeClient> {
        let mut o = ClientOptions::default();
        put(&mut o.interface, option(options, "interface")?);
        put(&mut o.host, option(options, "host")?);
        o.port = option::<u16>(options, "port")?.filter(|&p| p != 0);
        put(&mut o.username, option(options, "username")?);
        put(&mut o.password, option(options, "password")?);
        o.database = option::<String>(options, "database")?.filter(|d| !d.is_empty() && d != "__default__");
        if let Some(v) = option::<Bound<'_, PyAny>>(options, "compress")? {
            o.compression = if let Ok(b) = v.extract::<bool>() {
                if b { Compression::Http(clickhouse_connect::ContentEncoding::Gzip) } else { Compression::None }
            } else {
                Compression::parse(&v.extract::<String>()?)
                    .map_err(|_| PyValueError::new_err("unknown compress value (none, lz4, zstd, gzip, deflate, br)"))?
            };
        }
        put(&mut o.query_limit, option(options, "query_limit")?);
        put(&mut o.query_retries, option(options, "query_retries")?);
        put(&mut o.connect_timeout, option(options, "connect_timeout")?.map(Duration::from_secs_f64));
        put(&mut o.send_receive_timeout, option(options, "send_receive_timeout")?.map(Duration::from_secs_f64));
        o.client_name = option(options, "client_name")?;
        put(&mut o.send_progress, option(options, "send_progress")?);
        put(&mut o.verify, option(options, "verify")?);
        o.ca_cert = option(options, "ca_cert")?;
        o.client_cert = option(options, "client_cert")?;
        o.client_cert_key = option(options, "client_cert_key")?;
        o.session_id = option(options, "session_id")?;
        o.settings = settings_list(settings)?;
        let inner = py.detach(|| Client::new(o)).map_err(py_err)?;
        Ok(NativeClient { inner })
    }

    #[getter]
    fn server_version(&self) -> &str {
        self.inner.server_version()
    }

    #[getter]
    fn server_timezone(&self) -> &str {
        self.inner.server_timezone()
    }

    #[getter]
    fn database(&self) -> &str {
        self.inner.database()
    }

    /// Settings this user may not change (dropped from requests with a warning).
    fn readonly_settings(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        py.detach(|| self.inner.settings_readonly_for_user()).map_err(py_err)
    }

    /// `command`: (the result's text as the server printed it, escaped, without the final newline;
    /// whether there was a result; the summary).
    #[pyo3(signature = (sql, parameters=None, data=None, settings=None, use_database=true))]
    fn command<'py>(
        &self,
        py: Python<'py>,
        sql: &str,
        parameters: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        settings: Option<&Bound<'py, PyDict>>,
        use_database: bool,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let opts = call_options(parameters, settings, use_database)?;
        let body: Option<Vec<u8>> = match data.filter(|d| !d.is_none()) {
            Some(d) => Some(match d.extract::<String>() {
                Ok(s) => s.into_bytes(),
                Err(_) => d.extract::<Vec<u8>>()?,
            }),
            None => None,
        };
        let r = py
            .detach(|| match &body {
                Some(b) => self.inner.command_with_data(sql, b, &opts),
                None => self.inner.command_with(sql, &opts),
            })
            .map_err(py_err)?;
        let has_result = !r.column_names.is_empty() || !r.text.is_empty();
        let summary = summary_dict(py, r.summary.as_ref(), r.query_id.as_deref())?;
        PyTuple::new(
            py,
            [
                pyo3::types::PyString::new(py, &r.text).into_any(),
                PyBool::new(py, has_result).to_owned().into_any(),
                summary.into_any(),
            ],
        )
    }

    /// `query`: (column names, column type names, rows as tuples, query id, summary).
    #[pyo3(signature = (sql, parameters=None, settings=None, encoding=None, use_none=true, use_database=true))]
    #[allow(clippy::too_many_arguments)]
    fn query<'py>(
        &self,
        py: Python<'py>,
        sql: &str,
        parameters: Option<&Bound<'py, PyAny>>,
        settings: Option<&Bound<'py, PyDict>>,
        encoding: Option<String>,
        use_none: bool,
        use_database: bool,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let mut opts = call_options(parameters, settings, use_database)?;
        opts.nulls_as_defaults = !use_none;
        let r = py.detach(|| self.inner.query_with(sql, &opts)).map_err(py_err)?;
        let tz = self.inner.server_timezone().to_string();
        // `encoding`: the strings' bytes decoded by Python's own codec of that name.
        let cx = convert::Ctx { server_tz: &tz, encoding: encoding.as_deref() };
        let rows = PyList::empty(py);
        for row in &r.rows {
            let values: Vec<Bound<'py, PyAny>> =
                row.iter().zip(&r.column_types).map(|(v, t)| convert::to_py(py, v, t, &cx)).collect::<PyResult<_>>()?;
            rows.append(PyTuple::new(py, values)?)?;
        }
        let summary = summary_dict(py, r.summary.as_ref(), r.query_id.as_deref())?;
        PyTuple::new(
            py,
            [
                PyTuple::new(py, &r.column_names)?.into_any(),
                PyTuple::new(py, &r.column_type_names)?.into_any(),
                rows.into_any(),
                r.query_id.into_pyobject(py)?.into_any(),
                summary.into_any(),
            ],
        )
    }

    /// `query_arrow`: the result's record batches (one per Native block), for pyarrow; `large_strings`
    /// for 64-bit string offsets (what pandas' Arrow-backed strings hold).
    #[pyo3(signature = (sql, parameters=None, settings=None, use_strings=true, large_strings=false))]
    fn query_arrow<'py>(
        &self,
        py: Python<'py>,
        sql: &str,
        parameters: Option<&Bound<'py, PyAny>>,
        settings: Option<&Bound<'py, PyDict>>,
        use_strings: bool,
        large_strings: bool,
    ) -> PyResult<Vec<ArrowBatch>> {
        let opts = call_options(parameters, settings, true)?;
        let arrow =
            clickhouse_connect::arrow::ArrowOptions::new().use_strings(use_strings).large_strings(large_strings);
        let batches = py.detach(|| self.inner.query_arrow_with(sql, &opts, &arrow)).map_err(py_err)?;
        Ok(batches.into_iter().map(|b| ArrowBatch { batch: Some(b) }).collect())
    }

    /// `insert_arrow`: pyarrow record batches into `table` (their columns by name, converted to the
    /// table's types); the rows inserted.
    #[pyo3(signature = (table, batches, settings=None, database=None))]
    fn insert_arrow<'py>(
        &self,
        py: Python<'py>,
        table: &str,
        batches: Vec<Bound<'py, PyAny>>,
        settings: Option<&Bound<'py, PyDict>>,
        database: Option<String>,
    ) -> PyResult<u64> {
        let mut opts = call_options(None, settings, true)?;
        opts.database = database.filter(|d| !d.is_empty());
        let batches: Vec<arrow_array::RecordBatch> = batches.iter().map(ffi::import_batch).collect::<PyResult<_>>()?;
        let summary = py.detach(|| self.inner.insert_arrow_with(table, &batches, &opts)).map_err(py_err)?;
        Ok(summary.rows)
    }

    /// `query_np`'s one pass: (column names, NumPy arrays) when every column is a plain number,
    /// gathered straight from the decoded blocks; else (names, Arrow batches) of the same pass.
    #[pyo3(signature = (sql, parameters=None, settings=None))]
    fn query_columns<'py>(
        &self,
        py: Python<'py>,
        sql: &str,
        parameters: Option<&Bound<'py, PyAny>>,
        settings: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(Vec<String>, bool, Vec<Bound<'py, PyAny>>)> {
        let opts = call_options(parameters, settings, true)?;
        let arrow = clickhouse_connect::arrow::ArrowOptions::new();
        let mut names: Vec<String> = Vec::new();
        let mut numeric: Option<Vec<NumColumn>> = None;
        let mut batches = Vec::new();
        let mut first = true;
        py.detach(|| {
            self.inner.query_blocks_with(sql, &opts, |block| {
                if first {
                    first = false;
                    names = block.columns().iter().map(|c| c.name().to_string()).collect();
                    numeric = block.columns().iter().map(|c| NumColumn::for_type(c.desc())).collect();
                }
                match numeric.as_mut() {
                    Some(cols) => {
                        for (col, c) in cols.iter_mut().zip(block.columns()) {
                            if !col.extend(c.column().view()) {
                                return Err(Error::Internal("a column changed its type between blocks".into()));
                            }
                        }
                    }
                    None => batches.push(block.to_arrow(&arrow)?),
                }
                Ok(())
            })
        })
        .map_err(py_err)?;
        match numeric {
            Some(cols) => Ok((names, true, cols.into_iter().map(|c| c.into_numpy(py)).collect())),
            None => {
                let batches =
                    batches.into_iter().map(|b| Bound::new(py, ArrowBatch { batch: Some(b) }).map(Bound::into_any));
                Ok((names, false, batches.collect::<PyResult<_>>()?))
            }
        }
    }

    /// `raw_query`: the response body.
    #[pyo3(signature = (sql, parameters=None, settings=None, fmt=None, use_database=true))]
    fn raw_query<'py>(
        &self,
        py: Python<'py>,
        sql: &str,
        parameters: Option<&Bound<'py, PyAny>>,
        settings: Option<&Bound<'py, PyDict>>,
        fmt: Option<String>,
        use_database: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let opts = call_options(parameters, settings, use_database)?;
        let body = py.detach(|| self.inner.raw_query_with(sql, fmt.as_deref(), &opts)).map_err(py_err)?;
        Ok(PyBytes::new(py, &body))
    }

    /// `insert`: rows (or columns) of Python values into `table`'s columns (all when empty), or
    /// into columns of the given types (no `DESCRIBE`).
    #[pyo3(signature = (table, data, column_names, column_type_names=None, column_oriented=false, settings=None, database=None))]
    #[allow(clippy::too_many_arguments)]
    fn insert<'py>(
        &self,
        py: Python<'py>,
        table: &str,
        data: &Bound<'py, PyAny>,
        column_names: Vec<String>,
        column_type_names: Option<Vec<String>>,
        column_oriented: bool,
        settings: Option<&Bound<'py, PyDict>>,
        database: Option<String>,
    ) -> PyResult<usize> {
        let mut opts = call_options(None, settings, true)?;
        opts.database = database.filter(|d| !d.is_empty());
        let mut matrix: Vec<Vec<Value<'static>>> = Vec::new();
        for line in data.try_iter()? {
            let line = line?;
            let mut values = Vec::new();
            for v in line.try_iter()? {
                values.push(convert::to_value(&v?)?);
            }
            matrix.push(values);
        }
        let names: Vec<&str> = column_names.iter().map(String::as_str).collect();
        let rows = if column_oriented { matrix.first().map_or(0, Vec::len) } else { matrix.len() };
        py.detach(|| match (&column_type_names, column_oriented) {
            (Some(types), _) => {
                let columns: Vec<(&str, &str)> = names.iter().copied().zip(types.iter().map(String::as_str)).collect();
                let matrix = if column_oriented { transpose(matrix, &names)? } else { matrix };
                self.inner.insert_with_types_with(table, &columns, &matrix, &opts)
            }
            (None, true) => self.inner.insert_columns_with(table, &names, &matrix, &opts),
            (None, false) => self.inner.insert_with(table, &names, &matrix, &opts),
        })
        .map_err(py_err)?;
        Ok(rows)
    }
}

/// One result batch for pyarrow: the Arrow PyCapsule interface (`__arrow_c_array__`), through which
/// pyarrow takes the columns without copying them.
#[pyclass(module = "clickhouse_connect_rs._core")]
struct ArrowBatch {
    batch: Option<arrow_array::RecordBatch>,
}

#[pymethods]
impl ArrowBatch {
    /// (schema capsule, array capsule); the batch can be taken once.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &mut self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema;
        let batch = self.batch.take().ok_or_else(|| PyValueError::new_err("the batch was already taken"))?;
        let data = arrow_array::Array::to_data(&arrow_array::StructArray::from(batch));
        let (array, schema) = arrow_array::ffi::to_ffi(&data)
            .map_err(|e| PyValueError::new_err(format!("cannot export the batch: {e}")))?;
        // The capsules own the structs; a consumer moves their contents out (and releases them later);
        // a capsule never consumed releases them when it is dropped.
        let schema = pyo3::types::PyCapsule::new(py, schema, Some(c"arrow_schema".to_owned()))?;
        let array = pyo3::types::PyCapsule::new(py, array, Some(c"arrow_array".to_owned()))?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }
}

/// The option `name` of a `get_client` dict, when given and not `None`.
fn option<'py, T: pyo3::conversion::FromPyObjectOwned<'py>>(
    options: &Bound<'py, PyDict>,
    name: &str,
) -> PyResult<Option<T>> {
    match options.get_item(name)? {
        Some(v) if !v.is_none() => v.extract::<T>().map(Some).map_err(Into::into),
        _ => Ok(None),
    }
}

/// Sets `slot` to `value` when there is one.
fn put<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// A plain numeric column gathered block by block for NumPy.
enum NumColumn {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl NumColumn {
    /// A column for values of type `t`, when NumPy has that type exactly.
    fn for_type(t: &clickhouse_connect::types::TypeDesc) -> Option<NumColumn> {
        use clickhouse_connect::types::TypeDesc as T;
        Some(match t {
            T::UInt8 => NumColumn::U8(Vec::new()),
            T::UInt16 => NumColumn::U16(Vec::new()),
            T::UInt32 => NumColumn::U32(Vec::new()),
            T::UInt64 => NumColumn::U64(Vec::new()),
            T::Int8 => NumColumn::I8(Vec::new()),
            T::Int16 => NumColumn::I16(Vec::new()),
            T::Int32 => NumColumn::I32(Vec::new()),
            T::Int64 => NumColumn::I64(Vec::new()),
            T::Float32 => NumColumn::F32(Vec::new()),
            T::Float64 => NumColumn::F64(Vec::new()),
            _ => return None,
        })
    }

    /// Appends a block's values; false when the view is not of this column's type.
    fn extend(&mut self, view: clickhouse_connect::native::ColumnView<'_>) -> bool {
        use clickhouse_connect::native::ColumnView as V;
        match (self, view) {
            (NumColumn::U8(v), V::UInt8(s)) => append(v, s),
            (NumColumn::U16(v), V::UInt16(s)) => append(v, s),
            (NumColumn::U32(v), V::UInt32(s)) => append(v, s),
            (NumColumn::U64(v), V::UInt64(s)) => append(v, s),
            (NumColumn::I8(v), V::Int8(s)) => append(v, s),
            (NumColumn::I16(v), V::Int16(s)) => append(v, s),
            (NumColumn::I32(v), V::Int32(s)) => append(v, s),
            (NumColumn::I64(v), V::Int64(s)) => append(v, s),
            (NumColumn::F32(v), V::Float32(s)) => append(v, s),
            (NumColumn::F64(v), V::Float64(s)) => append(v, s),
            _ => return false,
        }
        true
    }

    /// A NumPy array owning the values (no copy).
    fn into_numpy(self, py: Python<'_>) -> Bound<'_, PyAny> {
        use numpy::PyArray1;
        match self {
            NumColumn::U8(v) => PyArray1::from_vec(py, v).into_any(),
            NumColumn::U16(v) => PyArray1::from_vec(py, v).into_any(),
            NumColumn::U32(v) => PyArray1::from_vec(py, v).into_any(),
            NumColumn::U64(v) => PyArray1::from_vec(py, v).into_any(),
            NumColumn::I8(v) => PyArray1::from_vec(py, v).into_any(),
            NumColumn::I16(v) => PyArray1::from_vec(py, v).into_any(),
            NumColumn::I32(v) => PyArray1::from_vec(py, v).into_any(),
            NumColumn::I64(v) => PyArray1::from_vec(py, v).into_any(),
            NumColumn::F32(v) => PyArray1::from_vec(py, v).into_any(),
            NumColumn::F64(v) => PyArray1::from_vec(py, v).into_any(),
        }
    }
}

/// Appends `s` (a large `Vec` grows by `realloc`, which moves pages rather than copying them).
fn append<T: Copy>(v: &mut Vec<T>, s: &[T]) {
    v.extend_from_slice(s);
}

/// Columns to rows.
fn transpose(
    columns: Vec<Vec<Value<'static>>>,
    names: &[&str],
) -> clickhouse_connect::Result<Vec<Vec<Value<'static>>>> {
    let n = columns.first().map_or(0, Vec::len);
    if let Some((i, c)) = columns.iter().enumerate().find(|(_, c)| c.len() != n) {
        let name = names.get(i).copied().unwrap_or("?");
        return Err(Error::Usage(format!("column {name} has {} values, expected {n}", c.len())));
    }
    let mut rows: Vec<Vec<Value<'static>>> = (0..n).map(|_| Vec::with_capacity(columns.len())).collect();
    for col in columns {
        for (r, v) in col.into_iter().enumerate() {
            if let Some(row) = rows.get_mut(r) {
                row.push(v);
            }
        }
    }
    Ok(rows)
}

/// The server's summary as the Python driver's dict (`written_rows`, … as strings, as the header has
/// them), with the query id.
fn summary_dict<'py>(
    py: Python<'py>,
    s: Option<&clickhouse_connect::Summary>,
    query_id: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    if let Some(s) = s {
        d.set_item("read_rows", s.read_rows.to_string())?;
        d.set_item("read_bytes", s.read_bytes.to_string())?;
        d.set_item("written_rows", s.written_rows.to_string())?;
        d.set_item("written_bytes", s.written_bytes.to_string())?;
        d.set_item("total_rows_to_read", s.total_rows_to_read.to_string())?;
        d.set_item("result_rows", s.result_rows.to_string())?;
        d.set_item("result_bytes", s.result_bytes.to_string())?;
        d.set_item("elapsed_ns", s.elapsed_ns.to_string())?;
    }
    if let Some(id) = query_id {
        d.set_item("query_id", id)?;
    }
    Ok(d)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The client's warnings (dropped readonly settings, retries, failover) go to Python's `logging`.
    let _ = pyo3_log::try_init();
    m.add_class::<NativeClient>()?;
    m.add_class::<ArrowBatch>()?;
    m.add("ClickHouseError", m.py().get_type::<ClickHouseError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
