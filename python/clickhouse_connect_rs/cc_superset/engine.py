"""The engine spec (imported by Superset only): time grains, column types, literal datetimes."""

import re
from datetime import datetime

from sqlalchemy import types
from superset.db_engine_specs.base import BaseEngineSpec
from superset.utils.core import GenericDataType

try:
    # Superset parses and rewrites SQL with sqlglot in the dialect of the engine's name; unknown names
    # get a generic dialect, which upper-cases ClickHouse's case-sensitive function names. Loading this
    # spec (Superset does, through the entry point) maps the engine to sqlglot's ClickHouse dialect,
    # as SQLGLOT_DIALECTS_EXTENSIONS in superset_config would.
    from sqlglot.dialects.dialect import Dialects
    from superset.sql.parse import SQLGLOT_DIALECTS

    SQLGLOT_DIALECTS.setdefault("clickhousers", Dialects.CLICKHOUSE)
except ImportError:  # an older Superset without sqlglot-based parsing
    pass


class ClickHouseRsEngineSpec(BaseEngineSpec):
    """ClickHouse through clickhouse_connect_rs (``clickhousers://user:password@host:8123/database``)."""

    engine = "clickhousers"
    engine_name = "ClickHouse Connect (Rust)"
    default_driver = "connect"
    sqlalchemy_uri_placeholder = "clickhousers://user:password@host[:port][/dbname][?setting=value&...]"
    time_groupby_inline = True
    supports_multivalues_insert = True
    supports_dynamic_schema = True
    allows_joins = True
    allows_subqueries = True

    _time_grain_expressions = {
        None: "{col}",
        "PT1S": "toStartOfSecond(toDateTime64({col}, 3))",
        "PT1M": "toStartOfMinute(toDateTime({col}))",
        "PT5M": "toStartOfFiveMinutes(toDateTime({col}))",
        "PT10M": "toStartOfTenMinutes(toDateTime({col}))",
        "PT15M": "toStartOfFifteenMinutes(toDateTime({col}))",
        "PT30M": "toDateTime(intDiv(toUInt32(toDateTime({col})), 1800) * 1800)",
        "PT1H": "toStartOfHour(toDateTime({col}))",
        "P1D": "toStartOfDay(toDateTime({col}))",
        "P1W": "toMonday(toDateTime({col}))",
        "P1M": "toStartOfMonth(toDateTime({col}))",
        "P3M": "toStartOfQuarter(toDateTime({col}))",
        "P1Y": "toStartOfYear(toDateTime({col}))",
    }

    column_type_mappings = (
        (re.compile(r"^(Nullable\()?(LowCardinality\()?Enum", re.IGNORECASE), types.String(), GenericDataType.STRING),
        (re.compile(r"^(Nullable\()?Array", re.IGNORECASE), types.String(), GenericDataType.STRING),
        (re.compile(r"^(Nullable\()?UUID", re.IGNORECASE), types.String(), GenericDataType.STRING),
        (re.compile(r"^(Nullable\()?Bool", re.IGNORECASE), types.Boolean(), GenericDataType.BOOLEAN),
        (re.compile(r"^(Nullable\()?(LowCardinality\()?(Fixed)?String", re.IGNORECASE), types.String(), GenericDataType.STRING),
        (re.compile(r"^(Nullable\()?U?Int\d+", re.IGNORECASE), types.BigInteger(), GenericDataType.NUMERIC),
        (re.compile(r"^(Nullable\()?(Float|BFloat)\d+", re.IGNORECASE), types.Float(), GenericDataType.NUMERIC),
        (re.compile(r"^(Nullable\()?Decimal", re.IGNORECASE), types.DECIMAL(), GenericDataType.NUMERIC),
        (re.compile(r"^(Nullable\()?DateTime", re.IGNORECASE), types.DateTime(), GenericDataType.TEMPORAL),
        (re.compile(r"^(Nullable\()?Date", re.IGNORECASE), types.Date(), GenericDataType.TEMPORAL),
    )

    @classmethod
    def epoch_to_dttm(cls):
        return "{col}"

    @classmethod
    def convert_dttm(cls, target_type, dttm: datetime, db_extra=None):
        sqla_type = cls.get_sqla_column_type(target_type)
        if isinstance(sqla_type, types.DateTime):
            return f"toDateTime('{dttm.isoformat(sep=' ', timespec='seconds')}')"
        if isinstance(sqla_type, types.Date):
            return f"toDate('{dttm.date().isoformat()}')"
        return None

    @classmethod
    def get_datatype(cls, type_code):
        # The DB-API cursor's description carries the ClickHouse type name.
        return type_code if isinstance(type_code, str) else None
