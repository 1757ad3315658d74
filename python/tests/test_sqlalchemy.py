"""The SQLAlchemy dialect: engines from URLs, select() over a real table, reflection of every core type."""

import datetime
import decimal

import pytest
import sqlalchemy as sa

from conftest import connect, env


def engine_for(var):
    return sa.create_engine(env(var).replace("http://", "clickhousers://") + "/default")


CORE_TYPES = {
    "i8": ("Int8", sa.SmallInteger),
    "i16": ("Int16", sa.SmallInteger),
    "i32": ("Int32", sa.Integer),
    "i64": ("Int64", sa.BigInteger),
    "u8": ("UInt8", sa.SmallInteger),
    "u16": ("UInt16", sa.Integer),
    "u32": ("UInt32", sa.BigInteger),
    "u64": ("UInt64", sa.BigInteger),
    "f32": ("Float32", sa.Float),
    "f64": ("Float64", sa.Float),
    "dec": ("Decimal(10, 3)", sa.Numeric),
    "s": ("String", sa.String),
    "fs": ("FixedString(4)", sa.String),
    "d": ("Date", sa.Date),
    "dt": ("DateTime", sa.DateTime),
    "dt64": ("DateTime64(3, 'UTC')", sa.DateTime),
    "u": ("UUID", sa.String),
    "e": ("Enum8('a' = 1, 'b' = 2)", sa.Enum),
    "arr": ("Array(Int32)", sa.ARRAY),
    "n": ("Nullable(Int64)", sa.BigInteger),
    "lc": ("LowCardinality(String)", sa.String),
}


def test_engine_select_and_reflection(any_server, table_name):
    legacy = any_server == "CH_LEGACY_URL"
    types = dict(CORE_TYPES)
    if legacy:  # 18.16 lacks these (LowCardinality is experimental there)
        types.pop("dt64")
        types.pop("lc")
    client = connect(any_server)
    columns = ", ".join(f"{name} {t}" for name, (t, _) in types.items())
    client.command(f"CREATE TABLE {table_name} ({columns}) ENGINE MergeTree ORDER BY i32")
    try:
        engine = engine_for(any_server)
        inspector = sa.inspect(engine)
        assert table_name in inspector.get_table_names()
        assert "system" in inspector.get_schema_names()
        reflected = {c["name"]: c for c in inspector.get_columns(table_name)}
        assert list(reflected) == list(types)
        for name, (ch_type, sqla) in types.items():
            assert isinstance(reflected[name]["type"], sqla), (name, reflected[name]["type"])
            assert reflected[name]["nullable"] == ch_type.startswith("Nullable"), name
        assert reflected["dec"]["type"].precision == 10 and reflected["dec"]["type"].scale == 3
        assert reflected["fs"]["type"].length == 4
        assert list(reflected["e"]["type"].enums) == ["a", "b"]

        client.command(f"INSERT INTO {table_name} (i32, s, d, dec, n) VALUES (1, 'one', '2022-01-02', 1.5, NULL), "
                       "(2, 'two', '2022-01-03', -2.25, 7)")
        table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.i32, table.c.s, table.c.d, table.c.dec, table.c.n)
                .where(table.c.i32 >= 1)
                .order_by(table.c.i32)
            ).fetchall()
            assert [tuple(r) for r in rows] == [
                (1, "one", datetime.date(2022, 1, 2), decimal.Decimal("1.500"), None),
                (2, "two", datetime.date(2022, 1, 3), decimal.Decimal("-2.250"), 7),
            ]
            # The same as the server's own text.
            text = client.raw_query(f"SELECT i32, s, d, dec, n FROM {table_name} ORDER BY i32", fmt="TabSeparated")
            server = [
                (int(i), s, datetime.date.fromisoformat(d), decimal.Decimal(dec), None if n == "\\N" else int(n))
                for i, s, d, dec, n in (line.split("\t") for line in text.decode().splitlines())
            ]
            assert [tuple(r) for r in rows] == server
            # Bound parameters, text() with a literal percent, aggregates.
            assert conn.execute(sa.text(f"SELECT count() FROM {table_name} WHERE s LIKE '%o%' AND i32 = :i"), {"i": 2}).scalar() == 1
            assert conn.execute(sa.select(sa.func.sum(table.c.i32))).scalar() == 3
        assert sa.inspect(engine).has_table(table_name)
        assert not sa.inspect(engine).has_table(table_name + "_not_there")
    finally:
        client.command(f"DROP TABLE {table_name}")


def test_odd_names_nested_arrays_enum_quotes_and_literal_percents(any_server, table_name):
    client = connect(any_server)
    name = table_name + "_q`x\\y"
    quoted = "`" + name.replace("\\", "\\\\").replace("`", "``") + "`"
    client.command(
        f"CREATE TABLE {quoted} (a Array(Array(Int32)), b Array(Array(Array(String))), "
        "e Enum8('c\\'d' = 1, 'x\\\\y' = 2)) ENGINE Memory"
    )
    try:
        engine = engine_for(any_server)
        inspector = sa.inspect(engine)
        assert name in inspector.get_table_names()
        cols = {c["name"]: c["type"] for c in inspector.get_columns(name)}
        assert isinstance(cols["a"], sa.ARRAY) and cols["a"].dimensions == 2 and isinstance(cols["a"].item_type, sa.Integer)
        assert cols["b"].dimensions == 3 and isinstance(cols["b"].item_type, sa.String)
        # The labels as the server itself renders them (JSON, decoded by Python's json).
        client.command(f"INSERT INTO {quoted} (e) VALUES ('c\\'d'), ('x\\\\y')")
        rendered = client.raw_query(f"SELECT groupArray(toString(e)) AS l FROM {quoted}", fmt="JSONEachRow")
        assert list(cols["e"].enums) == __import__("json").loads(rendered)["l"]
        with engine.connect() as conn:
            table = sa.Table(name, sa.MetaData(), autoload_with=engine)
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 2
            # A literal percent with no bound values: the server's own text of it.
            assert conn.execute(sa.text("SELECT '100%' AS x")).scalar() == "100%"
            assert conn.execute(sa.select(sa.literal_column("'a%b'"))).scalar() == "a%b"
    finally:
        client.command(f"DROP TABLE {quoted}")


def test_dialect_is_registered_by_the_entry_point():
    from sqlalchemy.dialects import registry

    cls = registry.load("clickhousers")
    assert cls.__module__ == "clickhouse_connect_rs.cc_sqlalchemy.dialect"
