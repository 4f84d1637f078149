"""Test databases on one PostgreSQL server, for tests/conftest.py (no tests here).

Each test process migrates one template and clones its test databases from it. Dropping a
database makes the server checkpoint (a second or more on a busy machine), so a test's
database is not dropped afterwards: it is put back to the template's state and handed to
the next test under a new name, or dropped only when the test changed its schema.

Putting back (``put_back``): every other session on it is ended; the tables that hold rows
are emptied, the rows the template has are copied back in, and every sequence and the
planner's view of the tables are set to the template's. A fingerprint of the schema
(tables, columns, constraints, triggers, functions, policies, grants, settings) compared
with the template's tells whether that is enough. The new
name means that nothing still holding the old URL reaches the next test's data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

# one number for pg_advisory_lock: migrations of concurrent test processes take turns, so
# two never create the roles a migration creates at the same time
_MIGRATE_LOCK = 0x766F6C74

_SCHEMA_FINGERPRINT = """
SELECT md5(string_agg(item, E'\n' ORDER BY item)) FROM (
  SELECT concat_ws(' ', 'rel', c.oid::regclass, c.relkind, c.relowner, c.relacl,
                   c.relrowsecurity, c.relforcerowsecurity, c.relispartition,
                   pg_get_expr(c.relpartbound, c.oid)) AS item
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT concat_ws(' ', 'col', a.attrelid::regclass, a.attname, a.atttypid, a.attnotnull,
                   a.attisdropped, a.attgenerated, a.attidentity, a.attacl,
                   pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND a.attnum > 0
  UNION ALL
  SELECT concat_ws(' ', 'con', conrelid::regclass, conname, contype, convalidated,
                   condeferrable, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace NOT IN (SELECT oid FROM pg_namespace
                                                  WHERE nspname = 'pg_catalog')
  UNION ALL
  SELECT concat_ws(' ', 'trg', tgrelid::regclass, tgname, tgenabled, tgfoid::regprocedure)
    FROM pg_trigger
  UNION ALL
  SELECT concat_ws(' ', 'fn', p.oid::regprocedure, p.proowner, p.proacl, p.prosecdef,
                   p.proconfig, md5(p.prosrc))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT concat_ws(' ', 'pol', polrelid::regclass, polname, polcmd, polpermissive, polroles,
                   pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid))
    FROM pg_policy
  UNION ALL
  SELECT concat_ws(' ', 'view', oid::regclass, md5(pg_get_viewdef(oid)))
    FROM pg_class WHERE relkind IN ('v', 'm')
      AND relnamespace NOT IN (SELECT oid FROM pg_namespace
                               WHERE nspname IN ('pg_catalog', 'information_schema'))
  UNION ALL
  SELECT concat_ws(' ', 'seq', seqrelid::regclass, seqtypid, seqstart, seqincrement, seqmax,
                   seqmin, seqcache, seqcycle)
    FROM pg_sequence
  UNION ALL
  SELECT concat_ws(' ', 'type', t.oid::regtype, t.typtype, t.typowner,
                   (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
                      FROM pg_enum WHERE enumtypid = t.oid))
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT concat_ws(' ', 'ns', nspname, nspowner, nspacl) FROM pg_namespace
   WHERE nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  UNION ALL
  SELECT concat_ws(' ', 'ext', extname, extversion) FROM pg_extension
  UNION ALL
  SELECT concat_ws(' ', 'acl', defaclrole, defaclnamespace, defaclobjtype, defaclacl)
    FROM pg_default_acl
  UNION ALL
  SELECT concat_ws(' ', 'set', s.setrole, s.setconfig) FROM pg_db_role_setting s
    JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()
  UNION ALL
  SELECT concat_ws(' ', 'db', datconnlimit, datallowconn, datacl) FROM pg_database
   WHERE datname = current_database()
) AS schema
"""

# the tables that hold rows themselves (a partitioned table's rows are its partitions')
_TABLES = """
SELECT format('%I.%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
 ORDER BY 1
"""

_COLUMNS = """
SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
 WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
"""

_SEQUENCES = """
SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences ORDER BY 1
"""

# what the planner reads of the tables' sizes (a clone has the template's numbers)
_SIZES = """
SELECT c.oid, c.relpages, c.reltuples, c.relallvisible
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND c.relkind IN ('r', 'p', 'i', 'I', 'm', 't')
"""

_FORGET_STATISTICS = """
DELETE FROM pg_catalog.pg_statistic WHERE starelid IN (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))
"""


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


class Template:
    """What a fresh clone of the template holds: its schema's fingerprint, the rows of the
    tables that have any, every sequence's state and the sizes the planner reads."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.fingerprint = schema_fingerprint(conn)
        self.tables = [row[0] for row in conn.execute(_TABLES)]
        self.columns = {t: conn.execute(_COLUMNS, (t,)).fetchone()[0] for t in self.tables}
        self.rows = {t: _copy_out(conn, self, t) for t in tables_with_rows(conn, self.tables)}
        self.sequences = [
            (name, *conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
                sql.SQL(name))).fetchone())
            for (name,) in conn.execute(_SEQUENCES).fetchall()
        ]  # fmt: skip
        self.sizes = conn.execute(_SIZES).fetchall()


def schema_fingerprint(conn: psycopg.Connection) -> str:
    return conn.execute(_SCHEMA_FINGERPRINT).fetchone()[0]


def tables_with_rows(conn: psycopg.Connection, tables: list[str]) -> list[str]:
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {} WHERE EXISTS (SELECT FROM {})").format(sql.Literal(t), sql.SQL(t))
        for t in tables
    )
    return [row[0] for row in conn.execute(query)]


def _copy_out(conn: psycopg.Connection, template: Template, table: str) -> bytes:
    query = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT binary)").format(
        sql.SQL(template.columns[table]), sql.SQL(table)
    )
    data = bytearray()
    with conn.cursor() as cur, cur.copy(query) as copy:
        for chunk in copy:
            data += chunk
    return bytes(data)


def _copy_in(conn: psycopg.Connection, template: Template, table: str, rows: bytes) -> None:
    query = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        sql.SQL(table), sql.SQL(template.columns[table])
    )
    with conn.cursor() as cur, cur.copy(query) as copy:
        copy.write(rows)


def put_back(conn: psycopg.Connection, template: Template) -> bool:
    """Return the database on ``conn`` (autocommit, a superuser's) to the template's
    state; False when its schema differs from the template's, which only a new clone
    undoes.

    The rows go by DELETE and VACUUM, which empties the tables' files as a new clone has
    them (TRUNCATE does the same at ten times the cost); the template's rows then come
    back in their order, and the planner's sizes and statistics become the template's."""
    if schema_fingerprint(conn) != template.fingerprint:
        return False
    changed = [
        t
        for t in tables_with_rows(conn, template.tables)
        if t not in template.rows or _copy_out(conn, template, t) != template.rows[t]
    ]
    if changed:
        with conn.transaction():
            # triggers (and the foreign keys' checks) stay quiet while rows go and come back
            conn.execute("SET LOCAL session_replication_role = replica")
            for table in changed:
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.SQL(table)))
        conn.execute(sql.SQL("VACUUM {}").format(sql.SQL(", ").join(map(sql.SQL, changed))))
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in changed:
            if table in template.rows:
                _copy_in(conn, template, table, template.rows[table])
        for name, value, called in template.sequences:
            conn.execute("SELECT setval(%s::regclass, %s, %s)", (name, value, called))
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE pg_catalog.pg_class SET relpages = %s, reltuples = %s,"
                " relallvisible = %s WHERE oid = %s",
                [(pages, tuples, visible, oid) for oid, pages, tuples, visible in template.sizes],
            )
        conn.execute(_FORGET_STATISTICS)
    return True


class Databases:
    """The test databases of this process: a migrated template, clones of it, and clones
    put back to the template's state after a test, waiting for the next one."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.prefix = f"voltrent_test_{os.getpid()}"
        self.template_name = f"voltrent_template_{os.getpid()}"
        self._numbers = iter(range(1, 1_000_000))
        self._spare: list[str] = []
        self._template: Template | None = None

    def make_template(self) -> None:
        from cloud.store.migrate import migrate

        with admin(self.server) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(
                sql.Identifier(self.template_name)))  # fmt: skip
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template_name)))
            conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATE_LOCK,))
            try:
                migrate(with_database(self.server, self.template_name), layout="partitioned")
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))

    def _new_name(self) -> str:
        return f"{self.prefix}_{next(self._numbers)}"

    def _clone(self) -> str:
        name = self._new_name()
        with admin(self.server) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(self.template_name)))  # fmt: skip
            # A test's commits need not wait for the disk: a crash of the test server loses
            # test data only. (A database's settings stay with it when it is renamed.)
            conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
                sql.Identifier(name)))  # fmt: skip
        if self._template is None:
            with admin(with_database(self.server, name)) as conn:
                self._template = Template(conn)
        return name

    def _drop(self, name: str) -> None:
        with admin(self.server) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def _give_back(self, name: str) -> None:
        """Put ``name`` back and keep it, under a new name, for the next test; or drop it."""
        assert self._template is not None
        with admin(self.server) as conn:
            _end_sessions(conn, name)
        with admin(with_database(self.server, name)) as conn:
            reusable = put_back(conn, self._template)
        if reusable:
            new_name = self._new_name()
            with admin(self.server) as conn:
                _end_sessions(conn, name)
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(name), sql.Identifier(new_name)))  # fmt: skip
            self._spare.append(new_name)
        else:
            self._drop(name)

    @contextmanager
    def fresh(self) -> Iterator[str]:
        """The URL of a database in the template's state, of the caller's own until the
        block ends."""
        name = self._spare.pop() if self._spare else self._clone()
        try:
            yield with_database(self.server, name)
        finally:
            try:
                self._give_back(name)
            except psycopg.Error:
                self._drop(name)

    def close(self) -> None:
        for name in [*self._spare, self.template_name]:
            self._drop(name)
        self._spare.clear()


def _end_sessions(conn: psycopg.Connection, name: str) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
