"""ClickHouse Connect's Python API on the clickhouse-connect Rust core.

``get_client(**kwargs)`` takes the Python ClickHouse Connect driver's parameters and returns a
:class:`~clickhouse_connect_rs.driver.client.Client` with its methods (``command``, ``query``,
``raw_query``, ``insert``, ...). Requests, Native decoding and value conversion run in Rust, with the
GIL released while bytes move.
"""

from clickhouse_connect_rs.driver import create_client, get_client
from clickhouse_connect_rs.driver.client import Client
from clickhouse_connect_rs.driver.exceptions import (
    ClickHouseError,
    DatabaseError,
    DataError,
    Error,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
)
from clickhouse_connect_rs.driver.query import QueryResult
from clickhouse_connect_rs._core import __version__

__all__ = [
    "get_client",
    "create_client",
    "Client",
    "QueryResult",
    "ClickHouseError",
    "Error",
    "DatabaseError",
    "DataError",
    "InterfaceError",
    "InternalError",
    "OperationalError",
    "ProgrammingError",
    "__version__",
]
