"""The driver's ``Client``: the Python driver's methods and arguments over the Rust client."""

import codecs
import functools

from clickhouse_connect_rs import _core
from clickhouse_connect_rs.driver.closable import Closable
from clickhouse_connect_rs.driver.exceptions import ProgrammingError, from_core
from clickhouse_connect_rs.driver.query import QueryResult, QuerySummary


def _translated(method):
    """Raises the package's exception (by kind, with ``code``) for the Rust client's errors."""

    @functools.wraps(method)
    def call(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except _core.ClickHouseError as e:
            raise from_core(e) from e

    return call


def _type_name(t):
    return t if isinstance(t, str) else getattr(t, "name", str(t))


def _nullable_int_dtypes():
    import pandas as pd
    import pyarrow as pa

    return {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.UInt8Dtype(),
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
    }


class Client(Closable):
    """A ClickHouse client (made by :func:`clickhouse_connect_rs.get_client`). Safe to share between
    threads; calls release the GIL while they wait for the server."""

    @_translated
    def __init__(self, options, settings):
        self._native = _core.NativeClient(options, settings)

    @property
    def server_version(self):
        return self._native.server_version

    @property
    def server_tz(self):
        return self._native.server_timezone

    @property
    def database(self):
        return self._native.database

    def min_version(self, version_str):
        """Whether the server's version is at least ``version_str`` (``"22.3"``)."""
        have = [int(p) for p in self.server_version.split(".") if p.isdigit()]
        want = [int(p) for p in version_str.split(".") if p.isdigit()]
        return have[: len(want)] >= want

    @_translated
    def command(self, cmd, parameters=None, data=None, settings=None, use_database=True):
        """Runs a statement; returns its single value, a list of the values of its one row, or (for a
        statement without a result) a :class:`QuerySummary`."""
        text, has_result, summary = self._native.command(cmd, parameters, data, settings, use_database)
        if not has_result:
            return QuerySummary(summary)
        # As the Python driver: the text split at tabs; one field an int when it reads as one.
        fields = text.split("\t")
        if len(fields) == 1:
            try:
                return int(fields[0])
            except ValueError:
                return fields[0]
        return fields

    @_translated
    def query(self, query, parameters=None, settings=None, encoding=None, use_none=True, context=None, **_ignored):
        """Runs a query; returns a :class:`QueryResult` (``result_set``, ``column_names``,
        ``column_types``, ``query_id``, ``summary``)."""
        if context is not None:
            parameters = parameters if parameters is not None else getattr(context, "parameters", None)
            settings = settings if settings is not None else getattr(context, "settings", None)
        if encoding:
            # Python's own codec decodes the strings (an unknown name fails here, before the query).
            encoding = codecs.lookup(encoding).name
        names, types, rows, query_id, summary = self._native.query(query, parameters, settings, encoding, use_none)
        return QueryResult(names, types, rows, query_id, summary)

    def query_arrow(self, query, parameters=None, settings=None, use_strings=True):
        """Runs a query; returns a ``pyarrow.Table`` (each Native block a record batch, handed over
        without copying). ``use_strings=False`` gives String columns as binary."""
        return self._arrow_table(query, parameters, settings, use_strings, False)

    @_translated
    def _arrow_table(self, query, parameters, settings, use_strings, large_strings):
        import pyarrow as pa

        raw = self._native.query_arrow(query, parameters, settings, use_strings, large_strings)
        # An empty result has no block, so no columns either (the server sends nothing for it).
        return pa.Table.from_batches([pa.record_batch(b) for b in raw], schema=None if raw else pa.schema([]))

    @_translated
    def query_np(self, query, parameters=None, settings=None, **_ignored):
        """Runs a query; returns a NumPy array: 2-D when every column has the same NumPy type (one
        column: shape (rows, 1)), else a structured array with a field per column. Plain numeric
        columns are gathered from the decoded blocks into the arrays without another copy."""
        import numpy as np

        names, numeric, parts = self._native.query_columns(query, parameters, settings)
        if numeric:
            columns = parts
        else:
            import pyarrow as pa

            schema_batches = [pa.record_batch(b) for b in parts]
            table = pa.Table.from_batches(schema_batches, schema=None if schema_batches else pa.schema([]))
            columns = [c.to_numpy() for c in table.columns]
        if not columns:
            return np.empty((0, 0))
        if all(c.dtype == columns[0].dtype and c.dtype != object for c in columns):
            if len(columns) == 1:
                return columns[0].reshape(-1, 1)
            return np.column_stack(columns)
        out = np.empty(len(columns[0]), dtype=[(name, c.dtype) for name, c in zip(names, columns)])
        for name, c in zip(names, columns):
            out[name] = c
        return out

    def query_df(self, query, parameters=None, settings=None, **_ignored):
        """Runs a query; returns a pandas ``DataFrame``."""
        # Strings with 64-bit offsets: the layout pandas' Arrow-backed `str` columns hold, so they are
        # taken without another copy. The batches are this call's own: pyarrow may free each column as
        # soon as it is converted.
        table = self._arrow_table(query, parameters, settings, True, True)
        # Nullable integers as pandas' nullable integer dtypes (Int64, UInt8, …), as the driver's
        # extended dtypes: as NumPy floats (pandas' default for integers with nulls) every value beyond
        # 2**53 would change.
        ints = _nullable_int_dtypes()
        nullable = {
            i: table.column(i).to_pandas(types_mapper=ints.get)
            for i, f in enumerate(table.schema)
            if f.nullable and f.type in ints and table.column(i).null_count
        }
        if not nullable:
            return table.to_pandas(split_blocks=True, self_destruct=True)
        # The other columns converted once, then those put back in their places.
        names = table.column_names
        rest = table.select([i for i in range(table.num_columns) if i not in nullable])
        del table
        df = rest.to_pandas(split_blocks=True, self_destruct=True)
        for i, series in sorted(nullable.items()):
            df.insert(i, names[i], series, allow_duplicates=True)
        return df

    @_translated
    def raw_query(self, query, parameters=None, settings=None, fmt=None, use_database=True, external_data=None):
        """Runs any statement and returns the response body as bytes (``fmt`` sets the format)."""
        if external_data is not None:
            raise ProgrammingError("external_data is not supported by this client")
        return self._native.raw_query(query, parameters, settings, fmt, use_database)

    @_translated
    def insert(
        self,
        table,
        data,
        column_names="*",
        database="",
        column_types=None,
        column_type_names=None,
        column_oriented=False,
        settings=None,
        context=None,
    ):
        """Inserts ``data`` (rows, or columns with ``column_oriented=True``) into ``table`` (``db.table``
        or ``database=``); ``column_names`` ``'*'`` means every column; with ``column_types`` or
        ``column_type_names`` no ``DESCRIBE`` is made. Returns a :class:`QuerySummary`."""
        if isinstance(column_names, str):
            column_names = [] if column_names == "*" else [column_names]
        names = list(column_names)
        type_names = None
        if column_types is not None:
            type_names = [_type_name(t) for t in column_types]
        elif column_type_names is not None:
            type_names = list(column_type_names)
        if type_names is not None and len(type_names) != len(names):
            raise ProgrammingError("column types must be given for every named column")
        rows = self._native.insert(table, data, names, type_names, column_oriented, settings, database or None)
        return QuerySummary({"written_rows": str(rows)})

    @_translated
    def insert_arrow(self, table, arrow_table, database=None, settings=None):
        """Inserts a ``pyarrow.Table`` (or ``RecordBatch``) into ``table``: columns by name, converted to
        the table's types. Returns a :class:`QuerySummary`."""
        batches = arrow_table.to_batches() if hasattr(arrow_table, "to_batches") else [arrow_table]
        rows = self._native.insert_arrow(table, batches, settings, database or None)
        return QuerySummary({"written_rows": str(rows)})

    def insert_df(self, table, df, database=None, settings=None, column_names=None, **_ignored):
        """Inserts a pandas ``DataFrame`` into ``table`` (its columns by name; ``column_names`` to
        rename them). Returns a :class:`QuerySummary`."""
        import pyarrow as pa

        import numpy as np

        arrow_table = pa.Table.from_pandas(df, preserve_index=False)
        for i in range(df.shape[1]):
            column = df.iloc[:, i]
            if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
                # In a NumPy float column NaN is a value (pyarrow would make it a null).
                field = arrow_table.schema.field(i)
                arrow_table = arrow_table.set_column(i, field, pa.array(column.to_numpy(), from_pandas=False))
        if column_names is not None:
            arrow_table = arrow_table.rename_columns(list(column_names))
        return self.insert_arrow(table, arrow_table, database=database, settings=settings)

    def ping(self):
        """Whether the server answers."""
        try:
            self._native.command("SELECT 1")
            return True
        except _core.ClickHouseError:
            return False
