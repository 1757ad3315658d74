"""The Python driver's exceptions (PEP 249 names), raised for the Rust client's errors by kind.

Every exception carries ``code`` (the ClickHouse error code of a server exception, else ``None``).
"""


class ClickHouseError(Exception):
    """Base of every error of this package."""

    def __init__(self, message="", code=None):
        super().__init__(message)
        self.code = code


class Error(ClickHouseError):
    """PEP 249 ``Error``."""


class InterfaceError(Error):
    """The interface was used wrongly."""


class DatabaseError(Error):
    """The server raised an exception (``code`` is its error code)."""


class DataError(DatabaseError):
    """Data that cannot be read or converted."""


class OperationalError(DatabaseError):
    """The server could not be reached or the connection failed."""


class IntegrityError(DatabaseError):
    """Not raised by ClickHouse; for PEP 249 completeness."""


class InternalError(DatabaseError):
    """An internal failure of the client."""


class ProgrammingError(DatabaseError):
    """A call that cannot work (bad arguments, values that do not fit their columns)."""


class NotSupportedError(DatabaseError):
    """A feature ClickHouse or this client does not have."""


_BY_KIND = {
    "server": DatabaseError,
    "operational": OperationalError,
    "programming": ProgrammingError,
    "data": DataError,
    "internal": InternalError,
}


def from_core(err):
    """The package's exception for a ``_core.ClickHouseError``."""
    message, code, kind = (tuple(err.args) + (None, None, None))[:3]
    exc = _BY_KIND.get(kind, DatabaseError)(message, code)
    exc.__cause__ = err
    return exc
