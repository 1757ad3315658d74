"""A real Superset (apache-superset from PyPI, in its own virtualenv since it pins SQLAlchemy 1.4) finds
the engine spec through the package's entry point; a database is added with Superset's own CLI; a query
through Superset's engine returns the rows the server has."""

import os
import pathlib
import subprocess
import sys

import pytest


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run scripts/test (it starts the servers)", pytrace=False)
    return value


@pytest.fixture(scope="module")
def superset_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("superset")
    config = home / "superset_config.py"
    config.write_text(
        f"SECRET_KEY = 'clickhouse-connect-rs-tests-only-{os.getpid()}'\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{home / 'superset.db'}'\n"
        "WTF_CSRF_ENABLED = False\n"
    )
    os.environ["SUPERSET_CONFIG_PATH"] = str(config)
    os.environ["SUPERSET_HOME"] = str(home)
    os.environ["FLASK_APP"] = "superset"
    superset = pathlib.Path(sys.executable).parent / "superset"
    subprocess.run([str(superset), "db", "upgrade"], check=True, capture_output=True, timeout=600)
    return superset


def test_engine_spec_database_and_query(superset_home, tmp_path):
    url = env("CH_MODERN_URL").replace("http://", "clickhousers://") + "/default"
    # Superset's own CLI adds the database.
    out = subprocess.run(
        [str(superset_home), "set-database-uri", "--database_name", "clickhouse_rs", "--uri", url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset.db_engine_specs import load_engine_specs

        specs = {s.engine: s for s in load_engine_specs()}
        spec = specs["clickhousers"]
        assert spec.__module__ == "clickhouse_connect_rs.cc_superset.engine"
        assert spec.engine_name == "ClickHouse Connect (Rust)"

        from superset.extensions import db
        from superset.models.core import Database

        database = db.session.query(Database).filter_by(database_name="clickhouse_rs").one()
        assert database.db_engine_spec is spec
        # A SQL Lab-style query through Superset's engine and spec.
        df = database.get_df("SELECT number AS n, toString(number) AS s FROM system.numbers LIMIT 5")
        assert df["n"].tolist() == [0, 1, 2, 3, 4]
        assert df["s"].tolist() == ["0", "1", "2", "3", "4"]
        # The server's own count, through the same path.
        df = database.get_df("SELECT count() AS c, sum(number) AS total FROM numbers(1000)")
        assert (int(df["c"][0]), int(df["total"][0])) == (1000, 499500)
        # Reflection as the dataset editor uses it, of a table made here.
        import urllib.parse

        import clickhouse_connect_rs

        u = urllib.parse.urlsplit(env("CH_MODERN_URL"))
        client = clickhouse_connect_rs.get_client(host=u.hostname, port=u.port)
        table = f"superset_{os.getpid()}"
        client.command(f"CREATE TABLE {table} (day Date, city LowCardinality(String), n UInt32) ENGINE Memory")
        try:
            assert (table, "default", None) in database.get_all_table_names_in_schema(catalog=None, schema="default")
            from superset.sql.parse import Table

            columns = {c["column_name"]: c for c in database.get_columns(Table(table, "default"))}
            assert list(columns) == ["day", "city", "n"]
            import sqlalchemy as sa

            assert isinstance(columns["day"]["type"], sa.Date) and isinstance(columns["n"]["type"], sa.BigInteger)
            assert spec.get_column_spec("Date").is_dttm and not spec.get_column_spec("UInt32").is_dttm
            # A chart-style aggregation by a time grain.
            client.command(f"INSERT INTO {table} VALUES ('2022-01-01', 'a', 1), ('2022-01-01', 'b', 2), ('2022-01-02', 'a', 3)")
            grain = spec.get_time_grain_expressions()["P1D"].format(col="day")
            df = database.get_df(f"SELECT {grain} AS t, sum(n) AS total FROM {table} GROUP BY t ORDER BY t")
            assert df["total"].tolist() == [3, 3]
        finally:
            client.command(f"DROP TABLE {table}")
        with database.get_sqla_engine() as engine:
            assert engine.dialect.name == "clickhousers"
        # Time grains compile to ClickHouse functions.
        assert spec.get_time_grain_expressions()["P1D"] == "toStartOfDay(toDateTime({col}))"
