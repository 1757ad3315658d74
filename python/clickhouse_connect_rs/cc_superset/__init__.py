"""A Superset engine spec for the ``clickhousers://`` dialect, registered through the package's
``superset.db_engine_specs`` entry point: installing the package makes a "ClickHouse Connect (Rust)"
connector appear in Superset."""
