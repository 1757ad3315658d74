"""The dialect: ``clickhousers`` over ``clickhouse_connect_rs.dbapi``."""

import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import default, reflection
from sqlalchemy.sql import compiler

from clickhouse_connect_rs import dbapi as _dbapi
from clickhouse_connect_rs.cc_sqlalchemy.types import sqla_type


class ClickHouseIdentifierPreparer(compiler.IdentifierPreparer):
    def __init__(self, dialect):
        super().__init__(dialect, initial_quote="`", final_quote="`", escape_quote="`")

    def _escape_identifier(self, value):
        # Inside backquotes ClickHouse reads a backslash as an escape and a doubled backquote as one.
        return value.replace("\\", "\\\\").replace("`", "``")

    def _unescape_identifier(self, value):
        return value.replace("``", "`").replace("\\\\", "\\")


class ClickHouseTypeCompiler(compiler.GenericTypeCompiler):
    def visit_integer(self, type_, **kw):
        return "Int32"

    def visit_big_integer(self, type_, **kw):
        return "Int64"

    def visit_small_integer(self, type_, **kw):
        return "Int16"

    def visit_boolean(self, type_, **kw):
        return "Bool"

    def visit_float(self, type_, **kw):
        return "Float64"

    def visit_string(self, type_, **kw):
        return "String"

    visit_VARCHAR = visit_string
    visit_CHAR = visit_string
    visit_TEXT = visit_string
    visit_unicode = visit_string
    visit_unicode_text = visit_string
    visit_text = visit_string

    def visit_numeric(self, type_, **kw):
        return f"Decimal({type_.precision or 38}, {type_.scale or 0})"

    def visit_datetime(self, type_, **kw):
        return "DateTime"

    def visit_date(self, type_, **kw):
        return "Date"


class ClickHouseDialect(default.DefaultDialect):
    name = "clickhousers"
    driver = "connect"
    supports_statement_cache = True
    default_paramstyle = "pyformat"
    supports_native_boolean = True
    supports_native_decimal = True
    supports_alter = True
    supports_sequences = False
    supports_default_values = False
    supports_empty_insert = False
    supports_multivalues_insert = True
    supports_sane_rowcount = False
    supports_sane_multi_rowcount = False
    postfetch_lastrowid = False
    returns_unicode_strings = True
    description_encoding = None
    max_identifier_length = 127
    preparer = ClickHouseIdentifierPreparer
    type_compiler_cls = ClickHouseTypeCompiler
    type_compiler = ClickHouseTypeCompiler  # SQLAlchemy 1.4's name

    @classmethod
    def import_dbapi(cls):  # SQLAlchemy 2.x
        return _dbapi

    if sqlalchemy.__version__.startswith("1."):

        @classmethod
        def dbapi(cls):  # SQLAlchemy 1.4
            return _dbapi

    def create_connect_args(self, url):
        kwargs = dict(url.query)
        if url.host:
            kwargs["host"] = url.host
        if url.port:
            kwargs["port"] = url.port
        if url.username:
            kwargs["username"] = url.username
        if url.password:
            kwargs["password"] = url.password
        if url.database:
            kwargs["database"] = url.database
        if url.drivername.endswith("+https"):
            kwargs["interface"] = "https"
        return [], kwargs

    def _get_server_version_info(self, connection):
        version = connection.connection.dbapi_connection.client.server_version if hasattr(
            connection.connection, "dbapi_connection"
        ) else connection.connection.client.server_version
        return tuple(int(p) for p in version.split(".") if p.isdigit())

    def _get_default_schema_name(self, connection):
        return connection.exec_driver_sql("SELECT currentDatabase()").scalar()

    def do_rollback(self, dbapi_connection):
        """Nothing to roll back: ClickHouse applies each statement when it runs."""

    def do_commit(self, dbapi_connection):
        """Nothing to commit."""

    def do_begin(self, dbapi_connection):
        pass

    def _schema(self, connection, schema):
        return schema or self._get_default_schema_name(connection)

    @reflection.cache
    def get_schema_names(self, connection, **kw):
        return [r[0] for r in connection.execute(text("SELECT name FROM system.databases ORDER BY name"))]

    @reflection.cache
    def get_table_names(self, connection, schema=None, **kw):
        rows = connection.execute(
            text("SELECT name FROM system.tables WHERE database = :db AND NOT is_temporary "
                 "AND engine NOT LIKE '%View' ORDER BY name"),
            {"db": self._schema(connection, schema)},
        )
        return [r[0] for r in rows]

    @reflection.cache
    def get_view_names(self, connection, schema=None, **kw):
        rows = connection.execute(
            text("SELECT name FROM system.tables WHERE database = :db AND engine LIKE '%View' ORDER BY name"),
            {"db": self._schema(connection, schema)},
        )
        return [r[0] for r in rows]

    def has_table(self, connection, table_name, schema=None, **kw):
        return bool(
            connection.execute(
                text("SELECT count() FROM system.tables WHERE database = :db AND name = :t"),
                {"db": self._schema(connection, schema), "t": table_name},
            ).scalar()
        )

    @reflection.cache
    def get_columns(self, connection, table_name, schema=None, **kw):
        if not self.has_table(connection, table_name, schema):
            raise sqlalchemy.exc.NoSuchTableError(table_name)
        quote = self.identifier_preparer.quote_identifier
        # DESCRIBE: the same on every server version (system.columns gained its columns over time).
        rows = connection.exec_driver_sql(
            f"DESCRIBE TABLE {quote(self._schema(connection, schema))}.{quote(table_name)}"
        ).fetchall()
        rows = [(r[0], r[1], r[2], r[3], r[4] if len(r) > 4 else "") for r in rows]
        columns = []
        for name, type_name, default_kind, default_expression, comment in rows:
            sqla, nullable = sqla_type(type_name)
            columns.append(
                {
                    "name": name,
                    "type": sqla,
                    "nullable": nullable,
                    "default": default_expression if default_kind else None,
                    "autoincrement": False,
                    "comment": comment or None,
                    "clickhouse_type": type_name,
                }
            )
        return columns

    def get_pk_constraint(self, connection, table_name, schema=None, **kw):
        return {"constrained_columns": [], "name": None}

    def get_foreign_keys(self, connection, table_name, schema=None, **kw):
        return []

    def get_indexes(self, connection, table_name, schema=None, **kw):
        return []

    def get_unique_constraints(self, connection, table_name, schema=None, **kw):
        return []

    def get_check_constraints(self, connection, table_name, schema=None, **kw):
        return []

    def get_table_comment(self, connection, table_name, schema=None, **kw):
        if self.server_version_info and self.server_version_info < (20, 6):
            return {"text": None}  # system.tables has no comment column before 20.6
        comment = connection.execute(
            text("SELECT comment FROM system.tables WHERE database = :db AND name = :t"),
            {"db": self._schema(connection, schema), "t": table_name},
        ).scalar()
        return {"text": comment or None}
