//! Inserts: rows or columns of [`Value`]s checked against the table's types (learned from the
//! server), typed column builders, and raw bodies in any format. A `JSON` column given JSON text
//! (`Value::String`) or maps goes as text for the server to parse, as its `JSONEachRow` input does.
//! Bodies are compressed as the client is configured; inserts are never retried automatically.

use super::coerce::Coercion;
use super::{CallOptions, Client};
use crate::error::{Error, Result};
use crate::format::json_text::JsonText;
use crate::native::{ColumnEncoder, write_block};
use crate::native::{ValueBuilder, builder_for};
use crate::types::TypeDesc;
use crate::value::Value;

impl Client {
    /// Inserts one Native block built from column builders: `INSERT INTO table (names…) FORMAT Native`.
    pub fn insert_block(&self, table: &str, columns: &[(&str, &dyn ColumnEncoder)]) -> Result<()> {
        self.insert_block_with(table, columns, &CallOptions::default())
    }

    /// [`Client::insert_block`] with per-call options.
    pub fn insert_block_with(
        &self,
        table: &str,
        columns: &[(&str, &dyn ColumnEncoder)],
        opts: &CallOptions,
    ) -> Result<()> {
        let (sql, body) = block_request(table, columns)?;
        self.post_body(&sql, &body, opts)
    }

    /// Inserts `data`, already in `format` (e.g. `Native`, `CSV`, `JSONEachRow`), as the request body:
    /// `INSERT INTO table [(columns)] FORMAT format`. The bytes are sent as they are.
    pub fn raw_insert(&self, table: &str, column_names: &[&str], format: &str, data: &[u8]) -> Result<()> {
        self.raw_insert_with(table, column_names, format, data, &CallOptions::default())
    }

    /// [`Client::raw_insert`] with per-call options.
    pub fn raw_insert_with(
        &self,
        table: &str,
        column_names: &[&str],
        format: &str,
        data: &[u8],
        opts: &CallOptions,
    ) -> Result<()> {
        self.post_body(&raw_insert_sql(table, column_names, format), data, opts)
    }
}

impl Client {
    /// The table's columns and their type names, as the server describes them (computed columns
    /// included).
    pub fn table_columns(&self, table: &str) -> Result<Vec<(String, String)>> {
        Ok(self.describe(table, &CallOptions::default())?.into_iter().map(|(n, t, _, _)| (n, t)).collect())
    }

    /// `DESCRIBE TABLE` in the call's database and session: (name, type, default kind, default
    /// expression).
    fn describe(&self, table: &str, opts: &CallOptions) -> Result<Vec<(String, String, String, String)>> {
        let mut cols = Vec::new();
        let (sql, where_) = self.describe_call(table, opts);
        self.fetch_blocks(&sql, &where_, false, |block| {
            self.describe_rows(block, &mut cols);
            Ok(())
        })?;
        if cols.is_empty() {
            return Err(Error::usage(format!("table {table} has no columns")));
        }
        Ok(cols)
    }

    /// The `DESCRIBE TABLE` query of a table, with the options that find it: only the call's database
    /// and session (for temporary tables).
    pub(crate) fn describe_call(&self, table: &str, opts: &CallOptions) -> (String, CallOptions) {
        let mut where_ = CallOptions::new();
        where_.database = opts.database.clone();
        where_.use_database = opts.use_database;
        where_.session_id = opts.session_id.clone();
        where_.endpoint = opts.endpoint;
        // The settings that decide which table the name means: the insert's own.
        where_.settings =
            opts.settings.iter().filter(|(k, _)| matches!(k.as_str(), "session_id" | "database")).cloned().collect();
        (format!("DESCRIBE TABLE {}", quote_table(table)), where_)
    }

    /// The columns of a block of `DESCRIBE TABLE`'s result.
    pub(crate) fn describe_rows(
        &self,
        block: &crate::native::Block<'_>,
        cols: &mut Vec<(String, String, String, String)>,
    ) {
        for r in 0..block.rows() {
            let row = block.row(r);
            let text = |i: usize| row.get(i).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            cols.push((text(0), text(1), text(2), text(3)));
        }
    }

    /// Keeps the columns a `DESCRIBE TABLE` returned.
    #[cfg(feature = "async")]
    pub(crate) fn cache_columns(
        &self,
        table: &str,
        opts: &CallOptions,
        cols: Vec<(String, String, String, String)>,
    ) -> Result<()> {
        if cols.is_empty() {
            return Err(Error::usage(format!("table {table} has no columns")));
        }
        let key = self.table_key(table, opts);
        self.table_columns.lock().unwrap_or_else(|e| e.into_inner()).insert(key, cols);
        Ok(())
    }

    /// Rows of values checked and encoded into builders for `columns`.
    pub(crate) fn encode_rows(
        &self,
        columns: &[(String, String)],
        rows: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<Vec<Box<dyn ValueBuilder>>> {
        let zone = self.session_timezone(opts);
        let mut builders = new_builders(columns)?;
        for (i, b) in builders.iter_mut().enumerate() {
            if json_as_text(&columns[i].1, rows.iter().filter_map(|r| r.get(i))) {
                *b = Box::new(JsonText::new(&zone)?);
            }
        }
        fill_rows(&mut builders, columns, rows, &mut Coercion::new(&zone))?;
        Ok(builders)
    }

    /// Inserts rows of values. `column_names` empty means all columns of the table in order; their types
    /// are looked up on the server. Every value is checked against its column's type before anything is
    /// sent: a mismatch is an error naming the row and column, and nothing is inserted.
    pub fn insert(&self, table: &str, column_names: &[&str], rows: &[Vec<Value<'_>>]) -> Result<()> {
        self.insert_with(table, column_names, rows, &CallOptions::default())
    }

    /// [`Client::insert`] with per-call options (settings such as `insert_deduplication_token` or
    /// `async_insert`, a session, a database).
    pub fn insert_with(
        &self,
        table: &str,
        column_names: &[&str],
        rows: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<()> {
        let (columns, described) = self.insert_columns_described(table, column_names, opts)?;
        let builders = self.encode_rows(&columns, rows, opts)?;
        let strict = self.strict_types_params(&columns, &described, opts)?;
        self.send_builders(table, &columns, &builders, opts, &strict)
    }

    /// Inserts column-oriented data: `columns[i]` holds every value of column `i`.
    pub fn insert_columns(&self, table: &str, column_names: &[&str], data: &[Vec<Value<'_>>]) -> Result<()> {
        self.insert_columns_with(table, column_names, data, &CallOptions::default())
    }

    /// [`Client::insert_columns`] with per-call options.
    pub fn insert_columns_with(
        &self,
        table: &str,
        column_names: &[&str],
        data: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<()> {
        let (columns, described) = self.insert_columns_described(table, column_names, opts)?;
        let builders = self.encode_columns(&columns, data, opts)?;
        let strict = self.strict_types_params(&columns, &described, opts)?;
        self.send_builders(table, &columns, &builders, opts, &strict)
    }

    /// Column-oriented values checked and encoded into builders for `columns`.
    pub(crate) fn encode_columns(
        &self,
        columns: &[(String, String)],
        data: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<Vec<Box<dyn ValueBuilder>>> {
        if data.len() != columns.len() {
            return Err(Error::usage(format!("{} data columns for {} table columns", data.len(), columns.len())));
        }
        let zone = self.session_timezone(opts);
        let mut builders = new_builders(columns)?;
        for ((b, values), (_, t)) in builders.iter_mut().zip(data).zip(columns) {
            if json_as_text(t, values.iter()) {
                *b = Box::new(JsonText::new(&zone)?);
            }
        }
        let rows = data.first().map_or(0, Vec::len);
        let mut coercion = Coercion::new(&zone);
        for ((b, values), (name, t)) in builders.iter_mut().zip(data).zip(columns) {
            if values.len() != rows {
                return Err(Error::usage(format!("column {name} has {} values, expected {rows}", values.len())));
            }
            let desc = TypeDesc::parse(t)?;
            for (r, v) in values.iter().enumerate() {
                coercion
                    .coerce(v, &desc)
                    .and_then(|v| b.push(&v))
                    .map_err(|e| Error::usage(format!("row {r}, column {name} ({t}): {e}")))?;
            }
        }
        Ok(builders)
    }

    /// Forgets the column types the last insert into `table` (or every table) described. Not needed
    /// for inserts, which describe their table every time; kept for callers of earlier versions.
    pub fn forget_table_columns(&self, table: Option<&str>) {
        let mut cache = self.table_columns.lock().unwrap_or_else(|e| e.into_inner());
        match table {
            Some(t) => cache.retain(|k, _| k.rsplit('\u{0}').next() != Some(t)),
            None => cache.clear(),
        }
    }

    /// Inserts rows with the column names and types given, skipping the lookup of the table's types
    /// (the Python driver's `column_type_names`).
    pub fn insert_with_types(&self, table: &str, columns: &[(&str, &str)], rows: &[Vec<Value<'_>>]) -> Result<()> {
        self.insert_with_types_with(table, columns, rows, &CallOptions::default())
    }

    /// [`Client::insert_with_types`] with per-call options.
    pub fn insert_with_types_with(
        &self,
        table: &str,
        columns: &[(&str, &str)],
        rows: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<()> {
        let columns: Vec<(String, String)> = columns.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        let builders = self.encode_rows(&columns, rows, opts)?;
        // Types the caller gave may differ from the table's on purpose: the server converts them.
        self.send_builders(table, &columns, &builders, opts, &[])
    }

    /// The columns an insert sends: those named (in that order), or, for none or `*`, the columns
    /// ClickHouse itself expects for an `INSERT` without a column list — ordinary and DEFAULT ones, not
    /// MATERIALIZED, ALIAS or EPHEMERAL. Described by the server for every insert (the Python driver's
    /// "pre-query"): a description kept from an earlier insert could name types the table no longer
    /// has (after an `ALTER`, or a table dropped and made again), and values that fit the old types
    /// would be converted by the server without a word. The async client describes first and this
    /// takes that description (once).
    ///
    /// Returns the columns and the whole description they came from (name, type, default kind,
    /// default expression of every column).
    pub(crate) fn insert_columns_described(
        &self,
        table: &str,
        column_names: &[&str],
        opts: &CallOptions,
    ) -> Result<(Vec<(String, String)>, super::Description)> {
        let key = self.table_key(table, opts);
        // A description the async client made for this insert is taken (once); else one is made now.
        let described = self.table_columns.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        let all = match described {
            Some(c) => c,
            None => self.describe(table, opts)?,
        };
        let columns = if column_names.is_empty() || column_names == ["*"] {
            all.iter()
                .filter(|(_, _, kind, _)| !matches!(kind.as_str(), "MATERIALIZED" | "ALIAS" | "EPHEMERAL"))
                .map(|(n, t, _, _)| (n.clone(), t.clone()))
                .collect()
        } else {
            column_names
                .iter()
                .map(|n| {
                    all.iter()
                        .find(|(c, _, _, _)| c == n)
                        .map(|(c, t, _, _)| (c.clone(), t.clone()))
                        .ok_or_else(|| Error::usage(format!("table {table} has no column {n}")))
                })
                .collect::<Result<_>>()?
        };
        Ok((columns, all))
    }

    /// The cache key of a table's columns: database, session (temporary tables) and name.
    pub(crate) fn table_key(&self, table: &str, opts: &CallOptions) -> String {
        let db = match (opts.database.as_deref(), opts.use_database) {
            (Some(d), _) => d,
            (None, true) => self.options.database.as_deref().unwrap_or(&self.database),
            // The user's default database on the server.
            (None, false) => "\u{1}default",
        };
        let session = self.call_session(opts).unwrap_or("");
        format!("{db}\u{0}{session}\u{0}{table}")
    }

    /// Forgets the cached columns of `table` as a call with `opts` would see them.
    pub(crate) fn forget_columns_for(&self, table: &str, opts: &CallOptions) {
        let key = self.table_key(table, opts);
        self.table_columns.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
    }

    /// Sends the builders as one Native block, with the URL parameters `strict` (see
    /// [`Client::strict_types_params`]).
    fn send_builders(
        &self,
        table: &str,
        columns: &[(String, String)],
        builders: &[Box<dyn ValueBuilder>],
        opts: &CallOptions,
        strict: &[(&str, &str)],
    ) -> Result<()> {
        let named: Vec<(&str, &dyn ColumnEncoder)> =
            columns.iter().zip(builders).map(|((n, _), b)| (n.as_str(), b.as_ref() as &dyn ColumnEncoder)).collect();
        let sent = block_request(table, &named)
            .and_then(|(sql, body)| self.post_body_with(&sql, &body, opts, strict, &mut |_| Ok(())))
            .map(|_| ());
        if sent.as_ref().is_err_and(|e| e.server_code().is_some()) {
            // The table may have changed (ALTER, re-created): describe it again next time.
            self.forget_columns_for(table, opts);
        }
        sent
    }
}

/// The setting that, at 0, makes the server refuse a Native column whose type is not the table
/// column's (23.3 on; before, and by default since, it converts).
pub(crate) const NATIVE_TYPES_CONVERSION: &str = "input_format_native_allow_types_conversion";

/// The setting that, at 1 (the default), makes the server store a column's default for a NULL sent
/// in a `Nullable` column whose table column is not — even with conversions refused.
pub(crate) const NULL_AS_DEFAULT: &str = "input_format_null_as_default";

/// What an insert may ask of the server so that a table changed after its `DESCRIBE` is refused
/// rather than converted ([`Client::strict_types_params`]), learned once per insert.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Strictness {
    /// [`NATIVE_TYPES_CONVERSION`] may be set to 0.
    conversion: bool,
    /// [`NULL_AS_DEFAULT`] may be set to 0.
    null_as_default: bool,
}

impl Strictness {
    /// The URL parameters for an insert of `columns` (as sent) into a table `described` so.
    pub(crate) fn params(
        self,
        columns: &[(String, String)],
        described: &super::Description,
    ) -> Vec<(&'static str, &'static str)> {
        let mut p = Vec::new();
        let Some(sent) = sent_as_described(columns, described) else { return p };
        if self.conversion {
            p.push((NATIVE_TYPES_CONVERSION, "0"));
            // A NULL in a column described as Nullable, whose table column is no longer: refused too,
            // unless NULLs stand for DEFAULTs in this insert.
            if self.null_as_default && sent == Sent::Exactly {
                p.push((NULL_AS_DEFAULT, "0"));
            }
        }
        p
    }
}

impl Client {
    /// The URL parameters that make the server refuse, instead of convert, a column whose type is not
    /// the table's — for an insert whose every column is sent as the table's type as just described
    /// (or as `Nullable` of it, NULL standing for the column's DEFAULT, which the server still takes).
    /// Without them a table changed between the `DESCRIBE` and the `INSERT` (an `ALTER`, a table made
    /// again, `EXCHANGE TABLES`) would get values converted to its new types without a word: 300 sent
    /// as the old `UInt16` stored as 44 in the new `UInt8`, a NULL of a column no longer Nullable
    /// stored as 0. None where the server converts in any case: before 23.3, a user who may not set
    /// them so (read-only, or a constraint's bounds), a caller who set them, or columns sent in other
    /// types on purpose (types the caller gave, JSON sent as text, a serde field's own type).
    pub(crate) fn strict_types_params(
        &self,
        columns: &[(String, String)],
        described: &super::Description,
        opts: &CallOptions,
    ) -> Result<Vec<(&'static str, &'static str)>> {
        if sent_as_described(columns, described).is_none() {
            return Ok(Vec::new());
        }
        Ok(self.strictness(opts)?.params(columns, described))
    }

    /// Which of the settings of [`Client::strict_types_params`] inserts with `opts` may set: a server
    /// of 23.3 or later, neither the client's nor the call's settings set it, and this user may set it
    /// to 0.
    pub(crate) fn strictness(&self, opts: &CallOptions) -> Result<Strictness> {
        if !super::version_at_least(&self.server_version, 23, 3) {
            return Ok(Strictness::default());
        }
        let free = |name: &str| -> Result<bool> {
            let given = |s: &[(String, String)]| s.iter().any(|(k, _)| k == name);
            Ok(!given(&self.settings) && !given(&opts.settings) && self.may_set_quietly(name, "0")?)
        };
        Ok(Strictness { conversion: free(NATIVE_TYPES_CONVERSION)?, null_as_default: free(NULL_AS_DEFAULT)? })
    }
}

/// How an insert's columns are sent, next to the table's description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Every column in its described type.
    Exactly,
    /// Some as `Nullable` of it (a NULL standing for the column's DEFAULT).
    WithNullsForDefaults,
}

/// Whether every column is sent in its type as described — or as `Nullable` of it (a NULL standing
/// for the column's DEFAULT) — and none holds a type the server converts by design (JSON, Variant,
/// Dynamic, Geometry). `None` when not.
pub(crate) fn sent_as_described(columns: &[(String, String)], described: &super::Description) -> Option<Sent> {
    use TypeDesc as T;
    let mut sent = Sent::Exactly;
    for (name, as_sent) in columns {
        let (_, table_type, _, _) = described.iter().find(|(n, _, _, _)| n == name)?;
        let (Ok(as_sent), Ok(table)) = (TypeDesc::parse(as_sent), TypeDesc::parse(table_type)) else {
            return None;
        };
        if table.contains(&|t| matches!(t, T::Variant(_) | T::Dynamic { .. } | T::Json(_) | T::Geometry)) {
            return None;
        }
        let wrapped = match (&as_sent, &table) {
            _ if as_sent == table => false,
            (T::Nullable(inner), _) if **inner == table => true,
            (T::LowCardinality(s), T::LowCardinality(t)) if matches!(&**s, T::Nullable(i) if i == t) => true,
            _ => return None,
        };
        if wrapped {
            sent = Sent::WithNullsForDefaults;
        }
    }
    Some(sent)
}

/// Pushes every row into the builders, checking each value; the first bad one is an error naming its
/// row and column.
fn fill_rows(
    builders: &mut [Box<dyn ValueBuilder>],
    columns: &[(String, String)],
    rows: &[Vec<Value<'_>>],
    coercion: &mut Coercion,
) -> Result<()> {
    let types = columns.iter().map(|(_, t)| TypeDesc::parse(t)).collect::<Result<Vec<_>>>()?;
    for (r, row) in rows.iter().enumerate() {
        if row.len() != builders.len() {
            return Err(Error::usage(format!("row {r} has {} values for {} columns", row.len(), builders.len())));
        }
        for (((b, v), (name, t)), desc) in builders.iter_mut().zip(row).zip(columns).zip(&types) {
            coercion
                .coerce(v, desc)
                .and_then(|v| b.push(&v))
                .map_err(|e| Error::usage(format!("row {r}, column {name} ({t}): {e}")))?;
        }
    }
    Ok(())
}

/// Whether a `JSON` column's values go as JSON text for the server to parse (a `String` column in the
/// block): when any is text or a map (the Python driver's `str` and `dict`), whose paths' types only
/// the server's own JSON parser can give as it gives them to `FORMAT JSONEachRow`.
fn json_as_text<'a>(column_type: &str, mut values: impl Iterator<Item = &'a Value<'a>>) -> bool {
    matches!(TypeDesc::parse(column_type), Ok(TypeDesc::Json(_)))
        && values.any(|v| matches!(v, Value::String(_) | Value::Map(_)))
}

fn new_builders(columns: &[(String, String)]) -> Result<Vec<Box<dyn ValueBuilder>>> {
    columns.iter().map(|(_, t)| builder_for(&TypeDesc::parse(t)?)).collect()
}

/// Back-quotes each part of `db.table` when it is a plain name; anything else is used as written.
/// The SQL and Native body of an insert of one block of built columns.
pub(crate) fn block_request(table: &str, columns: &[(&str, &dyn ColumnEncoder)]) -> Result<(String, Vec<u8>)> {
    let mut body = Vec::new();
    write_block(&mut body, columns)?;
    let names: Vec<String> = columns.iter().map(|(n, _)| quote_identifier(n)).collect();
    Ok((format!("INSERT INTO {} ({}) FORMAT Native", quote_table(table), names.join(", ")), body))
}

/// `INSERT INTO table [(columns)] FORMAT format`, for a body already in that format.
pub(crate) fn raw_insert_sql(table: &str, column_names: &[&str], format: &str) -> String {
    let cols = if column_names.is_empty() {
        String::new()
    } else {
        format!(" ({})", column_names.iter().map(|n| quote_identifier(n)).collect::<Vec<_>>().join(", "))
    };
    format!("INSERT INTO {}{cols} FORMAT {format}", quote_table(table))
}

pub(crate) fn quote_table(table: &str) -> String {
    if !table.is_empty()
        && table.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        table.split('.').map(quote_identifier).collect::<Vec<_>>().join(".")
    } else {
        table.to_string()
    }
}

/// Back-quotes an identifier for SQL.
pub fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}
