"""Where the real servers are: the variables `scripts/clickhouse-servers env` prints. A test never
skips for a missing server: it fails with instructions."""

import os
import urllib.parse
import uuid

import pytest

import clickhouse_connect_rs


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: these tests need the real ClickHouse servers. Run scripts/test, or start "
            'them with scripts/clickhouse-servers start and eval "$(scripts/clickhouse-servers env)"',
            pytrace=False,
        )
    return value


def connect(var, **kwargs):
    url = urllib.parse.urlsplit(env(var))
    return clickhouse_connect_rs.get_client(host=url.hostname, port=url.port, **kwargs)


@pytest.fixture(params=["CH_MODERN_URL", "CH_LEGACY_URL"], ids=["26.9", "18.16"])
def any_server(request):
    """The name of a server's URL variable: each test runs on 26.9 and on 18.16."""
    return request.param


@pytest.fixture
def client():
    """A client of the 26.9 server."""
    return connect("CH_MODERN_URL")


@pytest.fixture
def legacy():
    """A client of the 18.16 server."""
    return connect("CH_LEGACY_URL")


@pytest.fixture
def table_name():
    """A table name of this test's own."""
    return f"py_{uuid.uuid4().hex[:12]}"
