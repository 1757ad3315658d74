"""ClickHouse type names as SQLAlchemy types (for reflection) and back (for the type compiler)."""

import re

from sqlalchemy import types as sqltypes

_SIMPLE = {
    "Int8": sqltypes.SmallInteger,
    "Int16": sqltypes.SmallInteger,
    "Int32": sqltypes.Integer,
    "Int64": sqltypes.BigInteger,
    "Int128": sqltypes.Numeric,
    "Int256": sqltypes.Numeric,
    "UInt8": sqltypes.SmallInteger,
    "UInt16": sqltypes.Integer,
    "UInt32": sqltypes.BigInteger,
    "UInt64": sqltypes.BigInteger,
    "UInt128": sqltypes.Numeric,
    "UInt256": sqltypes.Numeric,
    "Float32": sqltypes.Float,
    "Float64": sqltypes.Float,
    "BFloat16": sqltypes.Float,
    "Bool": sqltypes.Boolean,
    "String": sqltypes.String,
    "Date": sqltypes.Date,
    "Date32": sqltypes.Date,
    "UUID": sqltypes.String,
    "IPv4": sqltypes.String,
    "IPv6": sqltypes.String,
    "Time": sqltypes.Interval,
    "Nothing": sqltypes.NullType,
}


def _strip(name):
    """The type inside Nullable/LowCardinality wrappers, and whether it is nullable."""
    nullable = False
    while True:
        m = re.fullmatch(r"(Nullable|LowCardinality)\((.*)\)", name)
        if not m:
            return name, nullable
        nullable = nullable or m.group(1) == "Nullable"
        name = m.group(2)


def sqla_type(name):
    """The SQLAlchemy type of a ClickHouse type name, and whether the column is nullable."""
    inner, nullable = _strip(name)
    base = inner.split("(", 1)[0]
    args = inner[len(base) + 1 : -1] if "(" in inner else ""
    if base in _SIMPLE:
        return _SIMPLE[base](), nullable
    if base == "FixedString":
        return sqltypes.String(int(args)), nullable
    if base.startswith("Decimal"):
        if base == "Decimal" and args:
            p, s = (int(x) for x in args.split(","))
        else:
            bits = {"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}.get(base, 38)
            p, s = bits, int(args or 0)
        return sqltypes.Numeric(p, s), nullable
    if base in ("DateTime", "DateTime64"):
        return sqltypes.DateTime(timezone="'" in args), nullable
    if base in ("Enum8", "Enum16"):
        # The labels as the server quotes them in the type name: unescaped.
        labels = [re.sub(r"\\(.)", r"\1", x) for x in re.findall(r"'((?:[^'\\]|\\.)*)'\s*=", args)]
        return sqltypes.Enum(*labels, native_enum=True, create_constraint=False), nullable
    if base == "Array":
        # SQLAlchemy's ARRAY does not nest: an Array of Arrays is one ARRAY of more dimensions.
        dimensions = 1
        while args.startswith("Array(") and args.endswith(")"):
            args, dimensions = args[len("Array(") : -1], dimensions + 1
        item, _ = sqla_type(args)
        return sqltypes.ARRAY(item, dimensions=dimensions if dimensions > 1 else None), nullable
    if base in ("Time64",):
        return sqltypes.Interval(), nullable
    return sqltypes.NullType(), nullable
