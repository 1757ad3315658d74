"""PEP 249 on real servers."""

import pytest

from clickhouse_connect_rs import dbapi

from conftest import env


def test_module_globals():
    assert (dbapi.apilevel, dbapi.threadsafety, dbapi.paramstyle) == ("2.0", 2, "pyformat")
    for name in ["Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
                 "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError"]:
        assert issubclass(getattr(dbapi, name), Exception)
    assert issubclass(dbapi.ProgrammingError, dbapi.DatabaseError) and issubclass(dbapi.DatabaseError, dbapi.Error)


def test_cursor_executes_fetches_and_describes(any_server, table_name):
    url = env(any_server).replace("http://", "clickhouse://")
    with dbapi.connect(url) as conn:
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE {table_name} (id UInt32, name Nullable(String)) ENGINE MergeTree ORDER BY id")
        try:
            assert cur.description is None
            cur.executemany(f"INSERT INTO {table_name} SELECT %(id)s, %(name)s", [{"id": 1, "name": "a"}, {"id": 2, "name": None}])
            cur.execute(f"SELECT id, name FROM {table_name} WHERE id >= %s ORDER BY id", (1,))
            assert [d[:2] for d in cur.description] == [("id", "UInt32"), ("name", "Nullable(String)")]
            assert [d[6] for d in cur.description] == [False, True]
            assert cur.rowcount == 2
            assert cur.fetchone() == (1, "a")
            assert cur.fetchmany(5) == [(2, None)]
            assert cur.fetchone() is None
            cur.execute(f"SELECT count() FROM {table_name}")
            assert cur.fetchall() == [(2,)]
            cur.execute(f"SELECT id FROM {table_name} ORDER BY id")
            assert [r for r in cur] == [(1,), (2,)]
            with pytest.raises(dbapi.DatabaseError) as e:
                cur.execute("SELECT * FROM no_such_table_here")
            assert e.value.code == 60
            conn.commit()
            with pytest.raises(dbapi.NotSupportedError):
                conn.rollback()
        finally:
            cur.execute(f"DROP TABLE {table_name}")
        cur.close()
        with pytest.raises(dbapi.InterfaceError):
            cur.execute("SELECT 1")


def test_cursor_state_comments_percent_and_closed_connections():
    url = env("CH_MODERN_URL").replace("http://", "clickhouse://")
    conn = dbapi.connect(url)
    cur = conn.cursor()
    cur.execute("SELECT number FROM numbers(3)")
    # A failed statement leaves nothing of the one before it.
    with pytest.raises(dbapi.DatabaseError):
        cur.execute("SELECT * FROM no_such_table_here")
    assert cur.description is None and cur.rowcount == -1
    with pytest.raises(dbapi.ProgrammingError):
        cur.fetchall()
    # A query behind comments (nested ones too) is still a query.
    for sql in ["/* c */ SELECT 1", "-- c\nSELECT 1", "/* a /* b */ c */ (SELECT 1)", "# c\nSELECT 1"]:
        cur.execute(sql)
        assert cur.fetchall() == [(1,)], sql
    # pyformat with no values (as SQLAlchemy sends it): `%%` stands for `%`, as the server's own text shows.
    for params in ({}, ()):
        cur.execute("SELECT '100%%', 'a%%b'", params)
        assert cur.fetchall() == [("100%", "a%b")]
    # Without parameters the statement goes as written.
    cur.execute("SELECT '100%%'")
    assert cur.fetchall() == [("100%%",)]
    with pytest.raises(dbapi.ProgrammingError):
        cur.execute("SELECT %(x)s", {})
    conn.close()
    with pytest.raises(dbapi.InterfaceError):
        cur.execute("SELECT 1")
