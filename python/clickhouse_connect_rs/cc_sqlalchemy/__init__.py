"""A SQLAlchemy dialect (1.4 and 2.x) on the DB-API module: query and cursor functionality, table and
column reflection, type mapping — as the Python driver's dialect promises, no DDL or ORM beyond that.

URLs: ``clickhousers://user:password@host:8123/database`` (``clickhousers+https://`` for TLS);
query parameters are :func:`clickhouse_connect_rs.get_client` keywords.
"""

from clickhouse_connect_rs.cc_sqlalchemy.dialect import ClickHouseDialect

dialect = ClickHouseDialect

__all__ = ["ClickHouseDialect", "dialect"]
