"""The driver's documented methods and parameters, against real servers. Expected values come from the
server (its own text renderings, its query log), and from the documentation where it states an output."""

import datetime
import decimal
import ipaddress
import logging
import uuid

import pytest

import clickhouse_connect_rs
from clickhouse_connect_rs import DatabaseError, OperationalError, ProgrammingError

from conftest import connect, env


def server_tsv(client, sql):
    """The server's own TabSeparated rendering of a query, as rows of fields."""
    text = client.raw_query(sql, fmt="TabSeparated").decode()
    return [line.split("\t") for line in text.splitlines()]


def test_basic_usage_example(any_server, table_name):
    # The documentation's Basic Usage, as written (table name of this test's own).
    client = connect(any_server)
    client.command(
        f"CREATE TABLE {table_name} (key UInt32, value String, metric Float64) ENGINE MergeTree ORDER BY key"
    )
    try:
        row1 = [1000, "String Value 1000", 5.233]
        row2 = [2000, "String Value 2000", -107.04]
        data = [row1, row2]
        client.insert(table_name, data, column_names=["key", "value", "metric"])
        result = client.query(f"SELECT max(key), avg(metric) FROM {table_name}")
        # The documented output ...
        assert result.result_set == [(2000, -50.9035)]
        # ... is what the server itself prints.
        [[k, m]] = server_tsv(client, f"SELECT max(key), avg(metric) FROM {table_name}")
        assert result.result_set == [(int(k), float(m))]
        assert result.column_names == ("max(key)", "avg(metric)")
        assert [t.name for t in result.column_types] == ["UInt32", "Float64"]
        assert result.query_id
    finally:
        client.command(f"DROP TABLE {table_name}")


def test_client_attributes_and_command_outputs(any_server, table_name):
    client = connect(any_server)
    [[version, db, tz]] = server_tsv(client, "SELECT version(), currentDatabase(), timezone()")
    assert client.server_version == version
    assert client.database == db
    assert client.server_tz == tz
    assert client.command("SELECT timezone()") == tz
    # A single row: an int when it reads as one; several values: a list of their texts.
    [[count]] = server_tsv(client, "SELECT count() FROM system.tables WHERE database = 'system'")
    assert client.command("SELECT count() FROM system.tables WHERE database = 'system'") == int(count)
    assert client.command("SELECT 1, 'a', 2.5") == ["1", "a", "2.5"]
    # DDL: a summary; SHOW CREATE TABLE: the server's text, escaped as it sends it (the documented
    # output has its newlines as \n).
    summary = client.command(f"CREATE TABLE {table_name} (col_1 String, col_2 DateTime) Engine MergeTree ORDER BY tuple()")
    assert isinstance(summary, clickhouse_connect_rs.driver.query.QuerySummary)
    try:
        shown = client.command(f"SHOW CREATE TABLE {table_name}")
        raw = client.raw_query(f"SHOW CREATE TABLE {table_name}", fmt="TabSeparated").decode().rstrip("\n")
        assert shown == raw
        if any_server == "CH_MODERN_URL":  # 18.16 prints it on one line
            assert shown.startswith(f"CREATE TABLE {db}.{table_name}\\n(\\n    `col_1` String,")
        # data: a command with a body.
        client.command(f"INSERT INTO {table_name} FORMAT TabSeparated", data="x\t2022-10-01 15:20:05\n")
        assert server_tsv(client, f"SELECT * FROM {table_name}") == [["x", "2022-10-01 15:20:05"]]
    finally:
        client.command(f"DROP TABLE {table_name}")
    assert client.ping()


def test_parameter_examples_generate_the_documented_sql(client, table_name):
    client.command(
        f"CREATE TABLE {table_name} (date DateTime, string String, metric Float64, ip_address IPv4) "
        "ENGINE MergeTree ORDER BY date"
    )
    try:
        my_date = datetime.datetime(2022, 10, 1, 15, 20, 5)
        parameters = {"v1": my_date, "v2": "a string with a single quote'"}
        r1 = client.query(
            f"SELECT * FROM {table_name} WHERE date >= %(v1)s AND string ILIKE %(v2)s", parameters=parameters
        )
        parameters = (35200.44, ipaddress.IPv4Address(0x443D04FE))
        r2 = client.query(f"SELECT * FROM {table_name} WHERE metric >= %s AND ip_address = %s", parameters=parameters)
        # The SQL the server received, from its own query log.
        client.command("SYSTEM FLUSH LOGS")
        logged = {
            qid: text
            for qid, text in client.query(
                "SELECT query_id, query FROM system.query_log WHERE type = 'QueryStart' AND query_id IN %(ids)s",
                parameters={"ids": [r1.query_id, r2.query_id]},
            ).result_set
        }
        assert logged[r1.query_id] == (
            f"SELECT * FROM {table_name} WHERE date >= '2022-10-01 15:20:05' AND string ILIKE "
            "'a string with a single quote\\''"
        )
        assert logged[r2.query_id] == (
            f"SELECT * FROM {table_name} WHERE metric >= 35200.44 AND ip_address = '68.61.4.254'"
        )
    finally:
        client.command(f"DROP TABLE {table_name}")


def test_settings_argument_and_http_parameters(client):
    settings = {"merge_tree_min_rows_for_concurrent_read": 65535, "session_id": "py_session_1234", "use_skip_indexes": False}
    r = client.query(
        "SELECT getSetting('merge_tree_min_rows_for_concurrent_read'), getSetting('use_skip_indexes')",
        settings=settings,
    )
    assert r.result_set == [(65535, False)]
    # Client-level: extra keywords are settings.
    c = connect("CH_MODERN_URL", max_threads=3, settings={"max_block_size": 1000})
    assert c.query("SELECT getSetting('max_threads'), getSetting('max_block_size')").result_set == [(3, 1000)]


def test_values_come_back_as_the_driver_returns_them(client):
    r = client.query(
        "SELECT toUInt64(18446744073709551615), toInt8(-5), toFloat32(1.5), 'ü', toFixedString('ab', 3), "
        "toDecimal128('-12345678901234567890.123', 3), toDate('2022-10-01'), "
        "toDateTime('2022-10-01 15:20:05', 'Asia/Tokyo'), toDateTime64('2022-10-01 15:20:05.123456', 6, 'UTC'), "
        "toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0'), toIPv6('::1'), CAST('b', 'Enum8(\\'a\\' = 1, \\'b\\' = 2)'), "
        "[[1, 2], []], tuple(1, 'x'), map('k', [NULL, 1]), CAST(NULL, 'Nullable(String)'), true, "
        "toInt256('-57896044618658097711785492504343953926634992332820282019728792003956564819968')"
    )
    (row,) = r.result_set
    tokyo = __import__("zoneinfo").ZoneInfo("Asia/Tokyo")
    assert row == (
        18446744073709551615,
        -5,
        1.5,
        "ü",
        b"ab\x00",
        decimal.Decimal("-12345678901234567890.123"),
        datetime.date(2022, 10, 1),
        datetime.datetime(2022, 10, 1, 15, 20, 5, tzinfo=tokyo),
        datetime.datetime(2022, 10, 1, 15, 20, 5, 123456, tzinfo=datetime.timezone.utc),
        uuid.UUID("61f0c404-5cb3-11e7-907b-a6006ad3dba0"),
        ipaddress.IPv6Address("::1"),
        "b",
        [[1, 2], []],
        (1, "x"),
        {"k": [None, 1]},
        None,
        True,
        -57896044618658097711785492504343953926634992332820282019728792003956564819968,
    )
    # The instants are the server's: its own epoch seconds of the same values.
    [[tokyo_epoch, micros]] = server_tsv(
        client,
        "SELECT toUnixTimestamp(toDateTime('2022-10-01 15:20:05', 'Asia/Tokyo')), "
        "toUnixTimestamp64Micro(toDateTime64('2022-10-01 15:20:05.123456', 6, 'UTC'))",
    )
    assert row[7].timestamp() == int(tokyo_epoch)
    assert round(row[8].timestamp() * 1_000_000) == int(micros)
    # use_none=False: defaults for NULLs.
    assert client.query("SELECT CAST(NULL, 'Nullable(Int32)'), CAST(NULL, 'Nullable(String)')", use_none=False).result_set == [(0, "")]


def test_time_values_far_beyond_a_day_are_exact(client):
    # Time/Time64 span ±999 hours: the timedelta must hold the server's own value, never a wrapped one.
    exprs = [
        "toTime64('-999:59:59.123456', 6)",
        "toTime64('999:59:59.999999999', 9)",
        "toTime64('-0:00:00.5', 1)",
        "toTime('999:00:01')",
        "toTime('-500:00:00')",
    ]
    settings = {"enable_time_time64_type": 1}
    (row,) = client.query("SELECT " + ", ".join(exprs), settings=settings).result_set
    oracle = server_tsv(client, "SELECT " + ", ".join(f"toString(toDecimal64(CAST({e} AS Time64(9)), 9))" for e in exprs) + " SETTINGS enable_time_time64_type = 1")[0]
    for value, seconds in zip(row, oracle):
        assert isinstance(value, datetime.timedelta)
        exact = decimal.Decimal(value.days * 86400 + value.seconds) + decimal.Decimal(value.microseconds) / 1_000_000
        # Precision 9 is cut to microseconds toward negative infinity, as datetime64 values are.
        expected = decimal.Decimal(seconds).quantize(decimal.Decimal("0.000001"), rounding=decimal.ROUND_FLOOR)
        assert exact == expected, (value, seconds)


def test_insert_parameters_and_round_trip(any_server, table_name):
    client = connect(any_server)
    legacy = any_server == "CH_LEGACY_URL"
    # 18.16 has no IPv4 type.
    ip_type = "UInt32" if legacy else "IPv4"
    client.command(
        f"CREATE TABLE {table_name} (id UInt32, s String, d Date, dt DateTime, dec Decimal(18, 4), "
        f"u UUID, ip {ip_type}, arr Array(Nullable(Int64)), f Float64) ENGINE MergeTree ORDER BY id"
    )
    try:
        rows = [
            [1, "one", datetime.date(2022, 1, 2), datetime.datetime(2022, 1, 2, 3, 4, 5), decimal.Decimal("1.2345"),
             uuid.UUID(int=1), ipaddress.IPv4Address("10.0.0.1"), [1, None, -3], 0.5],
            [2, "two\ttab'quote", datetime.date(1999, 12, 31), datetime.datetime(1999, 12, 31, 23, 59, 59),
             decimal.Decimal("-0.0001"), uuid.UUID(int=2**128 - 1), ipaddress.IPv4Address("255.255.255.255"), [], -1e300],
        ]
        if legacy:
            for r in rows:
                r[6] = int(r[6])
        client.insert(table_name, rows)  # column_names '*': every column
        columns = [list(c) for c in zip(*rows)]
        columns[0] = [10 + v for v in columns[0]]
        client.insert(table_name, columns, column_oriented=True)
        got = client.query(f"SELECT * FROM {table_name} ORDER BY id").result_set
        expected = [tuple(r) for r in rows] + [tuple([10 + r[0]] + r[1:]) for r in rows]
        assert got == expected
        # The server's own text of what it stored.
        stored = server_tsv(client, f"SELECT id, s, d, dt, dec, u, arr FROM {table_name} WHERE id = 2")
        assert stored == [["2", "two\\ttab\\'quote", "1999-12-31", "1999-12-31 23:59:59", "-0.0001",
                           "ffffffff-ffff-ffff-ffff-ffffffffffff", "[]"]]
        # Types given: no DESCRIBE; a database given apart.
        client.insert(table_name, [[100, "typed"]], column_names=["id", "s"], column_type_names=["UInt32", "String"],
                      database=client.database)
        assert client.command(f"SELECT s FROM {table_name} WHERE id = 100") == "typed"
        with pytest.raises(ProgrammingError):
            client.insert(table_name, [["not a number"]], column_names=["id"])
    finally:
        client.command(f"DROP TABLE {table_name}")


def test_errors_carry_code_and_kind(any_server):
    client = connect(any_server)
    with pytest.raises(DatabaseError) as e:
        client.query("SELECT * FROM no_such_table_here")
    assert e.value.code == 60
    assert "no_such_table_here" in str(e.value)
    with pytest.raises(OperationalError):
        clickhouse_connect_rs.get_client(host="127.0.0.1", port=1, connect_timeout=2)


def test_readonly_settings_are_dropped_with_a_warning(caplog):
    url = env("CH_MODERN_URL")
    import urllib.parse

    u = urllib.parse.urlsplit(url)
    with caplog.at_level(logging.WARNING):
        c = clickhouse_connect_rs.get_client(
            host=u.hostname, port=u.port, username=env("CH_READONLY_USER"), max_threads=2
        )
        assert c.command("SELECT 1") == 1
        assert c.query("SELECT 1", settings={"max_block_size": 5}).result_set == [(1,)]
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "max_threads" in messages and "max_block_size" in messages, messages


def test_sessions_with_temporary_tables(any_server):
    client = connect(any_server, session_id=f"py_{uuid.uuid4().hex}")
    client.command("CREATE TEMPORARY TABLE tmp_py (n UInt8)")
    client.insert("tmp_py", [[1], [2], [3]])
    assert client.query("SELECT sum(n) FROM tmp_py").result_set == [(6,)]
    # Another client (no session) does not see it.
    other = connect(any_server)
    with pytest.raises(DatabaseError):
        other.query("SELECT * FROM tmp_py")


def test_raw_query_formats(any_server):
    client = connect(any_server)
    assert client.raw_query("SELECT 1 AS x, 'a' AS y", fmt="JSONEachRow") == b'{"x":1,"y":"a"}\n'
    assert client.raw_query("SELECT %(n)s", parameters={"n": 5}, fmt="TabSeparated") == b"5\n"


def test_arrow_numpy_and_pandas_against_the_servers_own_arrow(client, table_name):
    import numpy as np
    import pyarrow as pa
    import pyarrow.ipc

    sql = (
        "SELECT number AS n, toInt32(number) - 5 AS i, toString(number) AS s, number / 4 AS f, "
        "toDate('2022-01-01') + number AS d FROM numbers(10)"
    )
    table = client.query_arrow(sql)
    # The server's own Arrow output of the same query, read by pyarrow.
    theirs = pa.ipc.open_stream(client.raw_query(sql, fmt="ArrowStream")).read_all()
    assert table.column_names == theirs.column_names
    for name in table.column_names:
        assert table.column(name).to_pylist() == theirs.column(name).to_pylist(), name
    binary = client.query_arrow("SELECT 'x' AS s", use_strings=False)
    assert binary.column("s").type == pa.binary()
    # NumPy and pandas, from the same batches.
    arr = client.query_np("SELECT number FROM numbers(1000)")
    assert arr.shape == (1000, 1) and arr.dtype == np.uint64
    assert int(arr.sum()) == client.command("SELECT sum(number) FROM numbers(1000)")
    df = client.query_df(sql)
    assert list(df.columns) == ["n", "i", "s", "f", "d"]
    assert df["s"].tolist() == [str(x) for x in range(10)]
    # Inserts of the same shapes come back unchanged (compared inside the server).
    client.command(
        f"CREATE TABLE {table_name} (n UInt64, i Int32, s String, f Float64, d Date) ENGINE MergeTree ORDER BY n"
    )
    try:
        assert client.insert_arrow(table_name, table).written_rows == 10
        client.insert_df(table_name, df)
        assert client.command(f"SELECT count() FROM {table_name}") == 20
        assert client.command(f"SELECT count() FROM (SELECT * FROM {table_name} EXCEPT DISTINCT {sql})") == 0
        assert client.command(f"SELECT count() FROM ({sql} EXCEPT DISTINCT SELECT * FROM {table_name})") == 0
    finally:
        client.command(f"DROP TABLE {table_name}")


def test_every_documented_client_parameter(table_name):
    import urllib.parse

    u = urllib.parse.urlsplit(env("CH_MODERN_URL"))
    name = f"pytest-{table_name}"
    c = clickhouse_connect_rs.get_client(
        interface="http",
        host=u.hostname,
        port=u.port,
        username="default",
        password="",
        database="system",
        compress="lz4",
        query_limit=3,
        query_retries=1,
        connect_timeout=5,
        send_receive_timeout=30,
        client_name=name,
        send_progress=True,
        session_id=f"py_{table_name}",
        max_threads=2,  # a setting
        buffer_size=4096,  # an HTTP parameter
    )
    assert c.database == "system"
    # query_limit applies to query: 3 rows of 10.
    r = c.query("SELECT number FROM numbers(10)")
    assert r.result_set == [(0,), (1,), (2,)]
    assert c.query("SELECT getSetting('max_threads')").result_set == [(2,)]
    # The session: a temporary table persists between calls.
    c.command("CREATE TEMPORARY TABLE t_param (n UInt8)")
    c.insert("t_param", [[1]])
    assert c.command("SELECT count() FROM t_param") == 1
    # send_progress gives the summary of a query; client_name shows in the server's query log.
    assert "read_rows" in r.summary
    c.command("SYSTEM FLUSH LOGS")
    agents = c.query(
        "SELECT DISTINCT http_user_agent FROM system.query_log WHERE query_id = %(id)s", parameters={"id": r.query_id}
    ).result_set
    assert agents and agents[0][0].startswith(name), agents
    # use_database=False: the user's default database, not the client's.
    assert c.command("SELECT currentDatabase()", use_database=False) == "default"
    assert c.command("SELECT currentDatabase()") == "system"
    # Compression modes and gzip.
    for compress in [True, False, "zstd", "gzip", "lz4"]:
        cc = connect("CH_MODERN_URL", compress=compress)
        assert cc.query("SELECT sum(number) FROM numbers(100000)").result_set == [(4999950000,)]


def test_tls_parameters():
    import urllib.parse

    u = urllib.parse.urlsplit(env("CH_TLS_URL"))
    c = clickhouse_connect_rs.get_client(host=u.hostname, port=u.port, secure=True, ca_cert=env("CH_TLS_CA"))
    assert c.command("SELECT 1") == 1
    with pytest.raises(OperationalError):
        clickhouse_connect_rs.get_client(host=u.hostname, port=u.port, secure=True, ca_cert=env("CH_TLS_OTHER_CA"))
    # verify=False accepts a certificate of an unknown CA.
    assert clickhouse_connect_rs.get_client(host=u.hostname, port=u.port, interface="https", verify=False).command("SELECT 2") == 2
    m = urllib.parse.urlsplit(env("CH_MTLS_URL"))
    mc = clickhouse_connect_rs.get_client(
        host=m.hostname,
        port=m.port,
        secure=True,
        ca_cert=env("CH_TLS_CA"),
        client_cert=env("CH_TLS_CLIENT_CERT"),
        client_cert_key=env("CH_TLS_CLIENT_KEY"),
    )
    assert mc.command("SELECT 3") == 3


def test_query_arguments_encoding_and_context(client):
    r = client.query("SELECT unhex('E9')", encoding="latin-1")
    assert r.result_set == [("é",)]
    # Python's own codecs: the server's bytes, as bytes.decode reads them (latin-1 is not windows-1252).
    for encoding, hexed in [("latin-1", "80819FE941"), ("koi8-r", "80819FE941"), ("utf-16-le", "FFFE4100"), ("utf_8_sig", "EFBBBF41")]:
        sql = f"SELECT unhex('{hexed}')"
        server_bytes = client.raw_query(sql, fmt="RowBinary")[1:]  # one String: a 1-byte length, the bytes
        (row,) = client.query(sql, encoding=encoding).result_set
        assert row == (server_bytes.decode(encoding),), encoding
    # 0x81 has no windows-1252 character: Python's codec refuses it, and so does the query.
    with pytest.raises(UnicodeDecodeError):
        client.query("SELECT unhex('81')", encoding="cp1252")

    class Context:
        parameters = {"x": 41}
        settings = {"max_block_size": 7}

    r = client.query("SELECT %(x)s + 1, getSetting('max_block_size')", context=Context())
    assert r.result_set == [(42, 7)]
    assert list(r.named_results()) == [dict(zip(r.column_names, (42, 7)))] and r.row_count == 1
    assert r.first_item == dict(zip(r.column_names, r.first_row))
    assert r.result_columns == [[42], [7]]


def test_the_gil_is_released_while_a_call_waits(client):
    import threading
    import time

    done = threading.Event()

    def slow():
        client.command("SELECT sleep(3)")
        done.set()

    t = threading.Thread(target=slow)
    t.start()
    # While the call waits for the server, this thread runs Python code: had the call held the GIL,
    # the loop would make no progress until the call returned.
    spins = 0
    while not done.is_set():
        spins += 1
        if spins == 200:
            break
        time.sleep(0.001)
    assert spins == 200 and not done.is_set()
    t.join()


def test_column_oriented_data_with_types_must_have_equal_columns(client, table_name):
    client.command(f"CREATE TABLE {table_name} (a UInt8, b String) ENGINE Memory")
    try:
        for kwargs in ({}, {"column_type_names": ["UInt8", "String"]}):
            with pytest.raises(ProgrammingError, match="column b has 3 values, expected 2"):
                client.insert(table_name, [[1, 2], ["x", "y", "z"]], column_names=["a", "b"], column_oriented=True, **kwargs)
        assert client.command(f"SELECT count() FROM {table_name}") == 0
    finally:
        client.command(f"DROP TABLE {table_name}")


def test_query_df_keeps_nullable_integers_exact(client):
    sql = (
        "SELECT CAST(arrayJoin([9007199254740993, NULL, 9223372036854775807]) AS Nullable(Int64)) AS i, "
        "CAST(arrayJoin([18446744073709551615, NULL, 1]) AS Nullable(UInt64)) AS u"
    )
    df = client.query_df(sql)
    server = server_tsv(client, sql)
    for col, j in (("i", 0), ("u", 1)):
        got = ["\\N" if v is __import__("pandas").NA else str(v) for v in df[col].tolist()]
        assert got == [row[j] for row in server], col


def test_time_beyond_a_day_is_an_error_in_arrow_frames(client):
    settings = {"enable_time_time64_type": 1}
    for method in (client.query_arrow, client.query_df, client.query_np):
        with pytest.raises(ProgrammingError, match="time of day"):
            method("SELECT toTime('25:00:00')", settings=settings)
    assert client.query_arrow("SELECT toTime('23:00:00') AS t", settings=settings).column(0)[0].as_py() == datetime.time(23, 0)


def test_empty_results_are_empty_frames(any_server):
    client = connect(any_server)
    sql = "SELECT number, toString(number) FROM numbers(10) WHERE number > 100"
    assert client.query_arrow(sql).num_rows == 0
    assert len(client.query_df(sql)) == 0
    assert client.query_np(sql).size == 0
    assert client.query(sql).result_set == []


def test_interface_is_http_or_https():
    for interface in ("ftp", "gopher", "dict"):
        with pytest.raises(ProgrammingError, match="http or https"):
            connect("CH_MODERN_URL", interface=interface)


def test_server_errors_are_database_errors_on_every_path(client, table_name):
    import pyarrow as pa

    client.command(f"CREATE TABLE {table_name} (a UInt8) ENGINE Memory")
    try:
        calls = [
            lambda: client.insert_arrow(table_name, pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])),
            lambda: client.insert(table_name, [[1, 2]], column_names=["a", "a"]),
            lambda: client.query_arrow("SELECT throwIf(1)"),
            lambda: client.query_np("SELECT throwIf(1)"),
            lambda: client.command("SELECT throwIf(number = 100000, 'boom') FROM numbers(200000) FORMAT Null"),
        ]
        for call in calls:
            with pytest.raises(DatabaseError) as e:
                call()
            assert type(e.value) is DatabaseError and e.value.code is not None, e.value
    finally:
        client.command(f"DROP TABLE {table_name}")


def test_insert_df_keeps_nan_as_a_float_value(client, table_name):
    import numpy as np
    import pandas as pd

    client.command(f"CREATE TABLE {table_name} (i UInt8, f Float64, n Nullable(Float64)) ENGINE Memory")
    try:
        df = pd.DataFrame({"i": [1, 2], "f": [1.5, np.nan], "n": pd.array([0.5, None], dtype="Float64")})
        client.insert_df(table_name, df)
        # NaN stays NaN in a NumPy float column; pandas' missing value (pd.NA) is NULL.
        assert server_tsv(client, f"SELECT i, f, isNaN(f), n FROM {table_name} ORDER BY i") == [
            ["1", "1.5", "0", "0.5"],
            ["2", "nan", "1", "\\N"],
        ]
    finally:
        client.command(f"DROP TABLE {table_name}")


def test_json_columns_take_dicts_and_json_text(client, table_name):
    # The driver's `dict` and `str` for a JSON column: parsed by the server, paths and their types as
    # its own JSONEachRow insert of the same text gives them.
    import json

    values = [{"a": 1, "b": {"c": "x"}}, '{"a": 2, "d": "2024-01-02"}', {"arr": [1, 2], "f": 1.5, "n": None}]
    for t in (table_name, table_name + "_srv"):
        client.command(f"CREATE TABLE {t} (id UInt8, j JSON) ENGINE = Memory")
    client.insert(table_name, [[i, v] for i, v in enumerate(values)])
    lines = [json.dumps({"id": i, "j": v if isinstance(v, dict) else json.loads(v)}) for i, v in enumerate(values)]
    client.command(f"INSERT INTO {table_name}_srv FORMAT JSONEachRow", data="\n".join(lines))
    q = "SELECT id, toString(j), toString(JSONAllPathsWithTypes(j)) FROM {}"
    for a, b in ((table_name, table_name + "_srv"), (table_name + "_srv", table_name)):
        assert client.command(f"SELECT count() FROM ({q.format(a)} EXCEPT {q.format(b)})") == 0
    assert client.command(f"SELECT count() FROM {table_name}") == 3
    for t in (table_name, table_name + "_srv"):
        client.command(f"DROP TABLE {t}")
