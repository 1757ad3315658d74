"""PEP 249 (DB-API 2.0) on the driver: ``connect(**kwargs)`` takes :func:`get_client`'s parameters
(or ``dsn``, a ``clickhouse://`` or ``http(s)://`` URL).

ClickHouse has no transactions: ``commit`` does nothing (every statement is applied when it runs) and
``rollback`` raises ``NotSupportedError``. Parameters are ``pyformat`` (``%(name)s``, also ``%s``),
bound on the client as the driver binds them.
"""

import urllib.parse

from clickhouse_connect_rs.driver import get_client
from clickhouse_connect_rs.driver.closable import Closable
from clickhouse_connect_rs.driver.exceptions import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)

apilevel = "2.0"
threadsafety = 2  # threads may share the module and connections, not cursors
paramstyle = "pyformat"


class Warning(Exception):  # noqa: A001 - PEP 249 name
    pass


def connect(dsn=None, **kwargs):
    """A :class:`Connection`; ``dsn`` (``clickhouse://user:password@host:port/database?setting=v``, or
    ``http(s)://``) and keywords are :func:`get_client`'s parameters."""
    if dsn:
        kwargs = {**parse_dsn(dsn), **kwargs}
    return Connection(get_client(**kwargs))


def parse_dsn(dsn):
    """Keywords of :func:`get_client` from a URL: scheme ``clickhouse``/``clickhousedb`` (http) or
    ``http``/``https``; query parameters are further keywords."""
    url = urllib.parse.urlsplit(dsn)
    out = {}
    scheme = url.scheme.split("+")[-1]
    if scheme in ("http", "https"):
        out["interface"] = scheme
    if url.hostname:
        out["host"] = url.hostname
    if url.port:
        out["port"] = url.port
    if url.username:
        out["username"] = urllib.parse.unquote(url.username)
    if url.password:
        out["password"] = urllib.parse.unquote(url.password)
    database = url.path.strip("/")
    if database:
        out["database"] = urllib.parse.unquote(database)
    for name, value in urllib.parse.parse_qsl(url.query):
        out[name] = value
    return out


class Connection(Closable):
    """A DB-API connection: a driver client."""

    def __init__(self, client):
        self.client = client
        self._closed = False

    def cursor(self):
        if self._closed:
            raise InterfaceError("the connection is closed")
        return Cursor(self)

    def commit(self):
        """Nothing to do: ClickHouse applies every statement when it runs."""

    def rollback(self):
        raise NotSupportedError("ClickHouse has no transactions to roll back")

    def close(self):
        self._closed = True
        self.client.close()


def _without_leading_comments(sql):
    """``sql`` from its first token on: whitespace, ``--``/``#`` line comments and (nested) ``/* */``
    comments before it skipped, as ClickHouse's lexer skips them."""
    i, n = 0, len(sql)
    while i < n:
        if sql[i].isspace():
            i += 1
        elif sql.startswith("--", i) or sql.startswith("#", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        else:
            break
    return sql[i:]


def _is_query(sql):
    head = _without_leading_comments(sql).lstrip("(").split(None, 1)
    return bool(head) and head[0].upper() in ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN")


class Cursor(Closable):
    """A DB-API cursor: ``execute`` runs a statement; a query's rows are fetched from its result."""

    arraysize = 1

    def __init__(self, connection):
        self.connection = connection
        self._rows = []
        self._pos = 0
        self.description = None
        self.rowcount = -1
        self.query_id = None
        self.summary = None
        self._closed = False

    def _check(self):
        if self._closed:
            raise InterfaceError("the cursor is closed")
        if self.connection._closed:
            raise InterfaceError("the connection is closed")

    def execute(self, operation, parameters=None):
        self._check()
        # Nothing of an earlier statement survives this one, whether or not it succeeds.
        self._rows, self._pos, self.description, self.rowcount = [], 0, None, -1
        self.query_id = self.summary = None
        if parameters is not None and len(parameters) == 0:
            # pyformat with no values (what SQLAlchemy sends): `%%` still stands for `%`.
            try:
                operation = operation % ()
            except (TypeError, ValueError) as e:
                raise ProgrammingError(f"no parameters for the placeholders of the statement: {e}") from None
            parameters = None
        client = self.connection.client
        if _is_query(operation):
            result = client.query(operation, parameters=parameters)
            self._rows = list(result.result_set)
            self.description = [
                (name, t.name, None, None, None, None, t.nullable)
                for name, t in zip(result.column_names, result.column_types)
            ]
            self.rowcount = len(self._rows)
            self.query_id = result.query_id
            self.summary = result.summary
        else:
            summary = client.command(operation, parameters=parameters)
            self._rows = []
            self.description = None
            written = getattr(summary, "written_rows", None)
            self.rowcount = written if written is not None else -1
            self.summary = getattr(summary, "summary", None)
            self.query_id = getattr(summary, "query_id", None)
        self._pos = 0
        return self

    def executemany(self, operation, seq_of_parameters):
        self._check()
        total = 0
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)
            total += max(self.rowcount, 0)
        self.rowcount = total
        return self

    def fetchone(self):
        self._check()
        if self.description is None:
            raise ProgrammingError("no result to fetch: the last statement was not a query")
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size=None):
        self._check()
        if self.description is None:
            raise ProgrammingError("no result to fetch: the last statement was not a query")
        size = self.arraysize if size is None else size
        rows = self._rows[self._pos : self._pos + size]
        self._pos += len(rows)
        return rows

    def fetchall(self):
        self._check()
        if self.description is None:
            raise ProgrammingError("no result to fetch: the last statement was not a query")
        rows = self._rows[self._pos :]
        self._pos = len(self._rows)
        return rows

    def __iter__(self):
        while True:
            row = self.fetchone()
            if row is None:
                return
            yield row

    def setinputsizes(self, sizes):
        pass

    def setoutputsize(self, size, column=None):
        pass

    def close(self):
        self._closed = True
        self._rows = []


__all__ = [
    "apilevel",
    "threadsafety",
    "paramstyle",
    "connect",
    "Connection",
    "Cursor",
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
]
