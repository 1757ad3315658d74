"""``get_client``: the Python driver's parameters, as it documents them."""

from clickhouse_connect_rs.driver.client import Client

# Keyword arguments that are client options; every other keyword is an HTTP parameter or a setting.
_OPTIONS = {
    "interface",
    "host",
    "port",
    "username",
    "password",
    "database",
    "compress",
    "query_limit",
    "query_retries",
    "connect_timeout",
    "send_receive_timeout",
    "client_name",
    "send_progress",
    "verify",
    "ca_cert",
    "client_cert",
    "client_cert_key",
    "session_id",
}


def get_client(
    *,
    host=None,
    username=None,
    password="",
    database="__default__",
    interface=None,
    port=0,
    secure=False,
    settings=None,
    **kwargs,
):
    """A connected :class:`Client`.

    Parameters are those of the Python ClickHouse Connect driver: ``interface`` (``http`` or
    ``https``; ``secure=True`` means ``https``), ``host`` (``localhost``), ``port`` (8123 or 8443),
    ``username`` (or ``user``), ``password``, ``database``, ``compress`` (``True`` for gzip, or a method
    name: ``lz4``, ``zstd``, ``gzip``, ``deflate``, ``br``), ``query_limit``, ``query_retries``,
    ``connect_timeout``, ``send_receive_timeout``, ``client_name``, ``send_progress``, ``verify``,
    ``ca_cert``, ``client_cert``, ``client_cert_key``, ``session_id``; ``settings`` (a dict) and every
    other keyword are ClickHouse settings or HTTP parameters (``buffer_size``, ``quota_key``,
    ``session_timeout``, ``wait_end_of_query``, ...), sent with every request. Settings a readonly
    user may not change are dropped with a logged warning.

    Defaults differ from the Python driver's in three places, as in the Rust crate: ``compress`` is
    off (on loopback and fast networks it costs more than it saves), ``query_limit`` is 0 (no silent
    truncation) and ``send_progress`` is off (``wait_end_of_query`` would make the server buffer whole
    results).
    """
    if "user" in kwargs and username is None:
        username = kwargs.pop("user")
    if interface is None:
        interface = "https" if secure else "http"
    options = {
        "interface": interface,
        "host": host or "localhost",
        "port": int(port or 0),
        "username": username or "default",
        "password": password or "",
        "database": database,
    }
    extra = dict(settings or {})
    for name, value in kwargs.items():
        if name in _OPTIONS:
            options[name] = value
        else:
            extra[name] = value
    return Client(options, extra)


create_client = get_client
