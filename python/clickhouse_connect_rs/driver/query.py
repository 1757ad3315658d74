"""``QueryResult`` and the type objects of result columns, as the Python driver has them."""

from clickhouse_connect_rs.driver.closable import Closable


class ClickHouseType:
    """A column's ClickHouse type: ``name`` is the type as the server names it."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    @property
    def base_type(self):
        return self.name.split("(", 1)[0]

    @property
    def nullable(self):
        return self.name.startswith("Nullable(")

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"ClickHouseType({self.name!r})"

    def __eq__(self, other):
        if isinstance(other, ClickHouseType):
            return self.name == other.name
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self):
        return hash(self.name)


class QueryResult(Closable):
    """The result of :meth:`Client.query`."""

    def __init__(self, column_names, column_type_names, rows, query_id, summary):
        self.column_names = tuple(column_names)
        self.column_types = tuple(ClickHouseType(t) for t in column_type_names)
        self.result_rows = rows
        self.query_id = query_id
        self.summary = summary

    @property
    def result_set(self):
        """The rows: a list of tuples."""
        return self.result_rows

    @property
    def result_columns(self):
        """The result column by column: a list of lists."""
        return [list(c) for c in zip(*self.result_rows)] if self.result_rows else [[] for _ in self.column_names]

    @property
    def row_count(self):
        return len(self.result_rows)

    @property
    def first_row(self):
        return self.result_rows[0] if self.result_rows else None

    @property
    def first_item(self):
        """The first row as a dict by column name."""
        row = self.first_row
        return dict(zip(self.column_names, row)) if row is not None else None

    def named_results(self):
        """Each row as a dict by column name."""
        for row in self.result_rows:
            yield dict(zip(self.column_names, row))



class QuerySummary:
    """The server's summary of a statement (``X-ClickHouse-Summary``)."""

    def __init__(self, summary=None):
        self.summary = dict(summary or {})

    @property
    def query_id(self):
        return self.summary.get("query_id")

    @property
    def written_rows(self):
        return int(self.summary.get("written_rows", 0))

    @property
    def written_bytes(self):
        return int(self.summary.get("written_bytes", 0))

    def __repr__(self):
        return f"QuerySummary({self.summary!r})"
