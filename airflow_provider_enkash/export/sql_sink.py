"""The SQL destination: create the table when missing, upsert rows keyed by the transaction id.

DDL comes from SQLAlchemy (types rendered per database) and the upsert
statement from common.sql's dialect (``hook.dialect.generate_replace_sql``, as
``DbApiHook.insert_rows(replace=True)`` builds it): ``INSERT ... ON CONFLICT
(...) DO UPDATE`` on Postgres, ``REPLACE INTO`` on SQLite, ``MERGE`` where a
dialect provides it. Rows go to the DBAPI cursor's ``executemany`` in chunks of
``chunk_size``, one transaction per chunk, with each cell already in the form
the hook's ``_serialize_cell`` gives it (worked out once per column, not per
cell: that per-cell pass cost more than the database's own work).

SQLite has no timestamp or decimal type: timestamps are stored as fixed-width
UTC text (``2025-01-23T11:08:36.000Z``, so text order is time order and
SQLite's date functions read it) and NUMERIC values as SQLite chooses (a
binary float); ``principal_amount_paise`` is exact everywhere.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

from airflow_provider_enkash.export.arguments import DEFAULT_CHUNK_SIZE, check_table_name
from airflow_provider_enkash.export.records import (
    COLUMN_NAMES,
    COLUMNS,
    KEY_COLUMN,
    TIME_COLUMN,
)
from airflow_provider_enkash.export.timestamps import format_utc
from airflow_provider_enkash.request_models.validators import positive_int

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    from airflow_provider_enkash.export.windows import Window

_TEXT_TIMESTAMP_DIALECTS = frozenset({"sqlite"})
_SQL_TYPES: dict[str, Any] = {
    "id": lambda: String(64),
    "text": Text,
    "amount": lambda: Numeric(18, 2),
    "foreign_amount": Numeric,
    "paise": BigInteger,
    "card": Text,
    "timestamp": lambda: DateTime(timezone=True),
    "export_time": lambda: DateTime(timezone=True),
}


_TIMESTAMP_AT = tuple(i for i, c in enumerate(COLUMNS) if c.kind in ("timestamp", "export_time"))
_utc_text = functools.lru_cache(maxsize=4096)(format_utc)  # neighbouring rows share seconds
# A value of each Python type a row cell holds (besides None), per column kind.
_SAMPLES: dict[str, Any] = {
    "id": "x",
    "text": "x",
    "card": "x",
    "amount": Decimal("1.25"),
    "foreign_amount": Decimal("1.25"),
    "paise": 125,
    "timestamp": datetime(2025, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
    "export_time": datetime(2025, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
}


def _cell_converters(hook: DbApiHook, *, text_timestamps: bool) -> list[tuple[int, Callable[[Any], Any]]]:
    """``(column index, function)`` for every column whose cells the database needs converted.

    What each column needs is the hook's own ``_serialize_cell`` (common.sql's default turns every cell
    into text, Postgres passes cells through), found once from a sample of the column's type: a sample
    returned unchanged needs nothing, one returned as ``str(sample)`` needs ``str``; anything else keeps
    calling ``_serialize_cell``. SQLite timestamps become fixed-width UTC text first.
    """
    serialize = hook._serialize_cell
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for i, column in enumerate(COLUMNS):
        if text_timestamps and i in _TIMESTAMP_AT:
            sample: Any = _utc_text(_SAMPLES[column.kind])
            first: Callable[[Any], Any] | None = _utc_text
        else:
            sample, first = _SAMPLES[column.kind], None
        serialized = serialize(sample)
        if serialized is sample:
            then = None
        elif serialized == str(sample) and type(serialized) is str:
            then = str
        else:
            then = serialize
        if first is not None and then is not None:
            converters.append((i, _composed(first, then)))
        elif first is not None or then is not None:
            converters.append((i, first or then))  # type: ignore[arg-type]
    return converters


def _composed(first: Callable[[Any], Any], then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``then(first(value))``."""
    return lambda value: then(first(value))


class SqlTransactionSink:
    """Writes export rows into ``table`` through a common.sql hook.

    :param hook: any ``DbApiHook`` (e.g. from ``BaseHook.get_connection(conn_id).get_hook()``).
    :param table: ``name`` or ``schema.name``; created with typed columns when missing.
    :param chunk_size: rows per executemany and per transaction (default 5000).
    """

    def __init__(self, hook: DbApiHook, table: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self.hook = hook
        self.table = check_table_name(table)
        self.chunk_size = positive_int(chunk_size, field="chunk_size")
        self._text_timestamps = hook.dialect_name in _TEXT_TIMESTAMP_DIALECTS

    def ensure_table(self) -> None:
        """Create the table (primary key on the transaction id, index on ``txn_date``) unless it exists."""
        schema, _, name = self.table.rpartition(".")
        metadata = MetaData(schema=schema or None)
        table = Table(
            name,
            metadata,
            *(Column(c.name, _SQL_TYPES[c.kind](), primary_key=c.name == KEY_COLUMN) for c in COLUMNS),
        )
        Index(f"ix_{name}_{TIME_COLUMN}", table.c[TIME_COLUMN])
        engine = self.hook.get_sqlalchemy_engine()
        try:
            metadata.create_all(engine, checkfirst=True)
        finally:
            engine.dispose()

    def db_value(self, value: Any) -> Any:
        """A cell as this database takes it (timestamps become fixed-width UTC text on SQLite)."""
        if self._text_timestamps and isinstance(value, datetime):
            return _utc_text(value)
        return value

    def count_window(self, window: Window) -> int:
        """Rows whose ``txn_date`` lies in ``[window.start, window.end)``."""
        placeholder = self.hook.placeholder
        sql = f"SELECT COUNT(*) FROM {self.table} WHERE {TIME_COLUMN} >= {placeholder} AND {TIME_COLUMN} < {placeholder}"
        result = self.hook.get_first(sql, parameters=(self.db_value(window.start), self.db_value(window.end)))
        return int(result[0])

    def upsert(self, batches: Iterable[list[tuple[Any, ...]]]) -> int:
        """Insert or replace every row of ``batches`` (streamed, never all in memory); return the rows sent."""
        from airflow.providers.common.sql.hooks.lineage import send_sql_hook_lineage

        hook = self.hook
        sql = hook.dialect.generate_replace_sql(
            self.table, COLUMN_NAMES, list(COLUMN_NAMES), replace_index=[KEY_COLUMN]
        )
        converters = _cell_converters(hook, text_timestamps=self._text_timestamps)

        def cells() -> Iterator[tuple[Any, ...]]:
            for batch in batches:
                for row in batch:
                    values = list(row)
                    for i, convert in converters:
                        value = values[i]
                        if value is not None:
                            values[i] = convert(value)
                    yield tuple(values)

        sent = 0
        rows = cells()
        with closing(hook.get_conn()) as conn:
            if hook.supports_autocommit:
                hook.set_autocommit(conn, False)
            with closing(conn.cursor()) as cursor:
                while chunk := list(itertools.islice(rows, self.chunk_size)):
                    cursor.executemany(sql, chunk)
                    conn.commit()
                    sent += len(chunk)
                    self.hook.log.info("Upserted %s rows into %s so far", sent, self.table)
        if sent:
            send_sql_hook_lineage(context=hook, sql=sql, row_count=sent)
        return sent
