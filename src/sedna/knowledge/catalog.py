"""The queryable catalog: an SQLite mirror of the committed index documents.

The version folders are the truth; the catalog can always be rebuilt from
them (``KnowledgeBase.rebuild_catalog``). Each write is one transaction, and
each call opens its own connection, so a Catalog may be shared by threads.
"""

import json
import os
import sqlite3
import time

__all__ = ("Catalog", "sample_rows", "to_text")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    number INTEGER PRIMARY KEY, url TEXT NOT NULL, created_at TEXT,
    parent INTEGER, schema_version INTEGER);
CREATE TABLE IF NOT EXISTS task_groups (
    version INTEGER NOT NULL, entry TEXT NOT NULL, model_url TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}', n_samples INTEGER);
CREATE TABLE IF NOT EXISTS tasks (
    version INTEGER NOT NULL, group_entry TEXT NOT NULL, entry TEXT NOT NULL,
    meta_attr TEXT, n_samples INTEGER);
CREATE TABLE IF NOT EXISTS relations (
    version INTEGER NOT NULL, group_entry TEXT NOT NULL, task_entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    version INTEGER NOT NULL, task_entry TEXT NOT NULL, x TEXT, y TEXT);
CREATE INDEX IF NOT EXISTS task_groups_v ON task_groups(version);
CREATE INDEX IF NOT EXISTS tasks_v ON tasks(version);
CREATE INDEX IF NOT EXISTS relations_v ON relations(version);
CREATE INDEX IF NOT EXISTS samples_vt ON samples(version, task_entry);
"""
_TABLES = ("task_groups", "tasks", "relations", "samples")


def to_text(item):
    """A sample field as text: strings as is, lists/arrays/numbers as JSON, else str()."""
    if item is None:
        return None
    if isinstance(item, str):
        return item
    if isinstance(item, bytes):
        return item.decode("utf-8", "replace")
    if hasattr(item, "tolist"):
        item = item.tolist()
    if isinstance(item, (list, tuple, dict, int, float, bool)):
        try:
            return json.dumps(item, ensure_ascii=False)
        except (TypeError, ValueError):
            pass
    return str(item)


def sample_rows(samples):
    """Normalize ``{task_entry: (x_list, y_list)}`` to ``{task_entry: {"x": [...], "y": [...]}}``.

    Every item becomes text (see :func:`to_text`); ``y_list`` may be None.
    ``{task_entry: {"x": ..., "y": ...}}`` is accepted too.
    """
    out = {}
    for task, pair in (samples or {}).items():
        if isinstance(pair, dict):
            xs, ys = pair.get("x"), pair.get("y")
        else:
            xs, ys = pair
        xs = [to_text(x) for x in (xs if xs is not None else [])]
        ys = [None] * len(xs) if ys is None else [to_text(y) for y in ys]
        if len(xs) != len(ys):
            raise ValueError(f"samples of task {task!r}: {len(xs)} x but {len(ys)} y")
        out[str(task)] = {"x": xs, "y": ys}
    return out


def _json(value):
    return json.dumps(value, ensure_ascii=False, default=lambda o: o.tolist()
                      if hasattr(o, "tolist") else str(o))


def _task_fields(task):
    """(entry, meta_attr, n_samples) of a task given as a dict or a bare entry."""
    if isinstance(task, str):
        return task, None, None
    return task["entry"], task.get("meta_attr"), task.get("n_samples")


class Catalog:
    """Query helpers over the SQLite catalog at ``path``."""

    def __init__(self, path):
        self.path = path

    # ---------------------------------------------------------------- plumbing
    def _connect(self):
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        conn.row_factory = sqlite3.Row
        # The catalog is a mirror that rebuild_catalog() recreates from the version
        # folders, so it does not pay for an fsync per transaction; transactions
        # still keep every write all-or-nothing.
        conn.execute("PRAGMA synchronous=OFF")
        return conn

    def _query(self, sql, args=()):
        conn = self._connect()
        try:
            return [dict(r) for r in conn.execute(sql, args).fetchall()]
        finally:
            conn.close()

    def ensure_schema(self):
        """Create the tables; returns the version numbers present. Raises
        ``sqlite3.DatabaseError`` for a corrupt file."""
        conn = self._connect()
        try:
            conn.executescript("BEGIN;\n" + _SCHEMA + "\nCOMMIT;")
            return {r[0] for r in conn.execute("SELECT number FROM versions")}
        finally:
            conn.close()

    def reset(self, keep_copy=True):
        """Start an empty catalog; the old file is moved aside (``keep_copy``) or deleted."""
        if os.path.exists(self.path):
            if keep_copy:
                os.replace(self.path, f"{self.path}.corrupt-{int(time.time())}")
            else:
                os.remove(self.path)
        for suffix in ("-journal", "-wal", "-shm"):
            try:
                os.remove(self.path + suffix)
            except FileNotFoundError:
                pass
        self.ensure_schema()

    # ------------------------------------------------------------------ writes
    def record(self, version, samples=None):
        """Mirror one version (a KBVersion) and its normalized samples, replacing old rows."""
        n, doc = version.number, version.doc
        conn = self._connect()
        try:
            with conn:  # one transaction
                self._forget(conn, n)
                conn.execute("INSERT INTO versions VALUES (?, ?, ?, ?, ?)",
                             (n, version.url, doc.get("created_at"), doc.get("parent_version"),
                              doc.get("schema_version")))
                for group in doc["task_groups"]:
                    self._record_group(conn, version, group)
                for task, rows in (samples or {}).items():
                    conn.executemany("INSERT INTO samples VALUES (?, ?, ?, ?)",
                                     [(n, task, x, y) for x, y in zip(rows["x"], rows["y"])])
        finally:
            conn.close()

    @staticmethod
    def _record_group(conn, version, group):
        n, entry, model = version.number, group["entry"], group["model"]
        tasks = [_task_fields(t) for t in group.get("tasks") or ()]
        n_samples = group.get("n_samples", model.get("n_samples"))
        if n_samples is None and tasks and all(t[2] is not None for t in tasks):
            n_samples = sum(t[2] for t in tasks)
        metrics = model.get("metrics", group.get("metrics")) or {}
        conn.execute("INSERT INTO task_groups VALUES (?, ?, ?, ?, ?)",
                     (n, entry, version.resolve(model["url"]), _json(metrics), n_samples))
        for task_entry, meta_attr, task_n in tasks:
            conn.execute("INSERT INTO tasks VALUES (?, ?, ?, ?, ?)",
                         (n, entry, task_entry, _json(meta_attr), task_n))
            conn.execute("INSERT INTO relations VALUES (?, ?, ?)", (n, entry, task_entry))

    @staticmethod
    def _forget(conn, number):
        conn.execute("DELETE FROM versions WHERE number = ?", (number,))
        for table in _TABLES:
            conn.execute(f"DELETE FROM {table} WHERE version = ?", (number,))

    def forget(self, number):
        """Drop every row of one version."""
        conn = self._connect()
        try:
            with conn:
                self._forget(conn, number)
        finally:
            conn.close()

    # ----------------------------------------------------------------- queries
    def versions(self):
        """[{number, url, created_at, parent, schema_version}] ascending."""
        return self._query("SELECT * FROM versions ORDER BY number")

    def version_numbers(self):
        """Set of version numbers present in the catalog."""
        return {r["number"] for r in self._query("SELECT number FROM versions")}

    def _v(self, version):
        """``version`` or, when None, the highest catalogued one."""
        if version is not None:
            return int(version)
        rows = self._query("SELECT max(number) AS n FROM versions")
        return rows[0]["n"] if rows else None

    def task_groups(self, version=None):
        """[{entry, model_url, metrics (dict), n_samples}] of a version (None: highest)."""
        rows = self._query("SELECT entry, model_url, metrics, n_samples FROM task_groups "
                           "WHERE version = ? ORDER BY rowid", (self._v(version),))
        for r in rows:
            r["metrics"] = json.loads(r["metrics"])
        return rows

    def models(self, version=None):
        """[{entry, url, metrics (dict)}]: one model per task group."""
        return [{"entry": r["entry"], "url": r["model_url"], "metrics": r["metrics"]}
                for r in self.task_groups(version)]

    def tasks(self, version=None):
        """[{group_entry, entry, meta_attr, n_samples}] of a version."""
        rows = self._query("SELECT group_entry, entry, meta_attr, n_samples FROM tasks "
                           "WHERE version = ? ORDER BY rowid", (self._v(version),))
        for r in rows:
            r["meta_attr"] = json.loads(r["meta_attr"]) if r["meta_attr"] is not None else None
        return rows

    def relations(self, version=None):
        """[{group_entry, task_entry}]: which task belongs to which group."""
        return self._query("SELECT group_entry, task_entry FROM relations "
                           "WHERE version = ? ORDER BY rowid", (self._v(version),))

    def samples(self, version=None, task_entry=None):
        """[{task_entry, x, y}] (x, y as stored text) of a version, optionally one task."""
        sql, args = "SELECT task_entry, x, y FROM samples WHERE version = ?", [self._v(version)]
        if task_entry is not None:
            sql += " AND task_entry = ?"
            args.append(task_entry)
        return self._query(sql + " ORDER BY rowid", args)

    def counts(self, version=None):
        """{"task_groups": n, "tasks": n, "samples": n} for a version (dashboard helper)."""
        v = self._v(version)
        return {t: self._query(f"SELECT count(*) AS c FROM {t} WHERE version = ?", (v,))[0]["c"]
                for t in ("task_groups", "tasks", "samples")}
