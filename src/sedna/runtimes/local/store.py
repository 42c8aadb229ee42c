"""The local runtime's state: one SQLite file, every change in a transaction.

Tables:

* ``resources``: applied Datasets and LifelongLearningJobs (manifest, status,
  and the controller's private ``state`` of a job), with Kubernetes-style
  metadata (uid, resourceVersion, generation, creationTimestamp);
* ``dataset_lines``: every line seen in a Dataset's index, in order, and the
  watcher's position (``dataset_watch``) — so a restart re-reads nothing;
* ``job_samples``: kept only to read the pool of a job from an older state
  folder (a job's pool is now a range of sample numbers in its state, see
  :mod:`sedna.control.pool`);
* ``workers``: the workers a job started (the launcher's record, the last
  report, the observed phase).
"""

import hashlib
import json
import os
import secrets
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

from sedna.common.exceptions import Conflict, NotFound, SednaError, StoreCorrupt  # noqa: F401 - some re-exported
from sedna.common.constants import DATASET, JOB

__all__ = ("Store", "StoreCorrupt", "Conflict", "NotFound", "now_ts", "repair")

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    uid TEXT NOT NULL, resource_version INTEGER NOT NULL, generation INTEGER NOT NULL,
    created TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT '{}', deleting INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, namespace, name));
CREATE TABLE IF NOT EXISTS dataset_watch (
    namespace TEXT NOT NULL, name TEXT NOT NULL, url TEXT NOT NULL, watch TEXT NOT NULL,
    lines INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (namespace, name));
CREATE TABLE IF NOT EXISTS dataset_lines (
    namespace TEXT NOT NULL, dataset TEXT NOT NULL, seq INTEGER NOT NULL, line TEXT NOT NULL,
    PRIMARY KEY (namespace, dataset, seq));
CREATE TABLE IF NOT EXISTS job_samples (
    namespace TEXT NOT NULL, job TEXT NOT NULL, seq INTEGER NOT NULL, line TEXT NOT NULL,
    split TEXT NOT NULL, round INTEGER, PRIMARY KEY (namespace, job, seq));
CREATE INDEX IF NOT EXISTS job_samples_round ON job_samples (namespace, job, round);
CREATE TABLE IF NOT EXISTS workers (
    namespace TEXT NOT NULL, name TEXT NOT NULL, job TEXT NOT NULL, stage TEXT NOT NULL,
    round INTEGER NOT NULL, record TEXT NOT NULL DEFAULT '{}', phase TEXT NOT NULL DEFAULT 'Pending',
    exit_code INTEGER, report TEXT, created TEXT NOT NULL, finished TEXT, token_hash TEXT,
    PRIMARY KEY (namespace, name));
"""


def now_ts():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def repair(path):
    """Move a corrupt state database aside (``<path>.corrupt-<time>``, with its
    -wal/-shm files) and copy into a new one every row that can still be read.
    Returns ``(aside, {table: rows copied or an error})``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = f"{path}.corrupt-{stamp}"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.replace(path + suffix, aside + suffix)
    fresh = sqlite3.connect(path, isolation_level=None)
    fresh.executescript("BEGIN;\n" + SCHEMA + "\nCOMMIT;")
    copied = {}
    try:
        fresh.execute("ATTACH DATABASE ? AS old", (aside,))
        tables = [r[0] for r in fresh.execute("SELECT name FROM main.sqlite_master WHERE type='table'")]
        for t in tables:
            try:
                cols = ", ".join(r[1] for r in fresh.execute(f"PRAGMA old.table_info({t})"))
                n = fresh.execute(f"INSERT OR IGNORE INTO main.{t} ({cols}) SELECT {cols} FROM old.{t}").rowcount
                copied[t] = n
            except sqlite3.DatabaseError as e:
                copied[t] = f"unreadable: {e}"
    except sqlite3.DatabaseError as e:
        copied = {"(all)": f"unreadable: {e}"}
    finally:
        fresh.close()
    os.chmod(path, 0o600)
    return aside, copied


class _Rollback(Exception):
    """Raised inside a transaction to undo it (a dry run)."""


def _token_hash(token):
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _j(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


class Store:
    """All state of the local runtime in one SQLite file (thread-safe)."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._local = threading.local()
        try:
            problem = self._conn().execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as e:
            problem = str(e)
        if problem != "ok":
            self.close()
            raise StoreCorrupt(f"the state database {path} is corrupt ({problem}); run `sedna up --repair` "
                               "to keep it aside and start from what can still be read")
        self._conn().executescript("BEGIN;\n" + SCHEMA + "\nCOMMIT;")
        cols = {r["name"] for r in self._conn().execute("PRAGMA table_info(workers)")}
        if "token_hash" not in cols:  # a state folder from before per-worker tokens
            self._conn().execute("ALTER TABLE workers ADD COLUMN token_hash TEXT")
        self._conn().execute("CREATE INDEX IF NOT EXISTS workers_token ON workers (token_hash)")

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self):
        """One transaction: everything inside commits together or not at all."""
        c = self._conn()
        if c.in_transaction:  # nested: join the outer transaction
            yield c
            return
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    def close(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---------------------------------------------------------------- resources
    @staticmethod
    def _obj(row):
        body = json.loads(row["body"])
        meta = body.setdefault("metadata", {})
        meta.update(uid=row["uid"], resourceVersion=str(row["resource_version"]), generation=row["generation"],
                    creationTimestamp=row["created"], namespace=row["namespace"], name=row["name"])
        if row["deleting"]:
            meta["deletionTimestamp"] = meta.get("deletionTimestamp") or row["created"]
        body["status"] = json.loads(row["status"])
        return body

    def get(self, kind, namespace, name, with_state=False):
        row = self._conn().execute("SELECT * FROM resources WHERE kind=? AND namespace=? AND name=?",
                                   (kind, namespace, name)).fetchone()
        if row is None:
            raise NotFound(f"{kind} {namespace}/{name} not found")
        obj = self._obj(row)
        if with_state:
            obj["state"] = json.loads(row["state"])
        return obj

    def list(self, kind, namespace=None, with_state=False, limit=None, after=None):
        """Objects of ``kind`` by (namespace, name); ``limit`` at most, those after
        the (namespace, name) pair ``after`` (a page of a paginated list)."""
        sql, args = "SELECT * FROM resources WHERE kind=?", [kind]
        if namespace:
            sql += " AND namespace=?"
            args.append(namespace)
        if after:
            sql += " AND (namespace > ? OR (namespace = ? AND name > ?))"
            args += [after[0], after[0], after[1]]
        sql += " ORDER BY namespace, name"
        if limit:
            sql += " LIMIT ?"
            args.append(int(limit))
        out = []
        for row in self._conn().execute(sql, args).fetchall():
            obj = self._obj(row)
            if with_state:
                obj["state"] = json.loads(row["state"])
            out.append(obj)
        return out

    def apply(self, manifest, dry_run=False, create_only=False):
        """Create or update (kubectl apply). Returns (object, "created"|"configured"|"unchanged").
        ``create_only``: :class:`Conflict` if the object exists, in the write's transaction.

        A ``metadata.resourceVersion`` in ``manifest`` must be the stored one
        (:class:`Conflict` otherwise, as Kubernetes answers 409). ``dry_run``:
        every check and the verdict, nothing stored."""
        kind, meta = manifest["kind"], manifest["metadata"]
        ns, name = meta.get("namespace", "default"), meta["name"]
        body = {k: v for k, v in manifest.items() if k != "status"}
        expect = meta.get("resourceVersion")
        try:
            with self.tx() as c:
                verdict = self._apply_in(c, kind, ns, name, body, meta, expect, create_only)
                obj = self._obj(c.execute("SELECT * FROM resources WHERE kind=? AND namespace=? AND name=?",
                                          (kind, ns, name)).fetchone())
                if dry_run:
                    raise _Rollback()
        except _Rollback:
            pass
        return obj, verdict

    def _apply_in(self, c, kind, ns, name, body, meta, expect, create_only=False):
        row = c.execute("SELECT * FROM resources WHERE kind=? AND namespace=? AND name=?",
                        (kind, ns, name)).fetchone()
        if row is not None and create_only:
            raise Conflict(f"{kind} {ns}/{name} already exists")
        if row is None:
            if expect not in (None, ""):
                raise Conflict(f"{kind} {ns}/{name} does not exist, but resourceVersion {expect} was given")
            c.execute("INSERT INTO resources (kind, namespace, name, uid, resource_version, generation, "
                      "created, body) VALUES (?,?,?,?,?,?,?,?)",
                      (kind, ns, name, str(uuid.uuid4()), 1, 1, now_ts(), _j(body)))
            return "created"
        if row["deleting"]:
            raise Conflict(f"{kind} {ns}/{name} is being deleted")
        if expect not in (None, "") and str(expect) != str(row["resource_version"]):
            raise Conflict(f"{kind} {ns}/{name}: resourceVersion {expect} is stale (now {row['resource_version']}); "
                           "get the object again and reapply")
        old = json.loads(row["body"])
        old_meta = old.get("metadata", {})
        same_spec = _j(old.get("spec")) == _j(body.get("spec"))
        if same_spec and all(_j(old_meta.get(k)) == _j(meta.get(k)) for k in ("labels", "annotations")):
            return "unchanged"
        c.execute("UPDATE resources SET body=?, generation=?, resource_version=resource_version+1 "
                  "WHERE kind=? AND namespace=? AND name=?",
                  (_j(body), row["generation"] + (0 if same_spec else 1), kind, ns, name))
        return "configured"

    def update_status(self, kind, namespace, name, status, state=None, expect_version=None):
        """Replace status (and the private state). With ``expect_version``, a
        stale writer gets :class:`Conflict` instead of losing someone's update."""
        with self.tx() as c:
            row = c.execute("SELECT resource_version FROM resources WHERE kind=? AND namespace=? AND name=?",
                            (kind, namespace, name)).fetchone()
            if row is None:
                raise NotFound(f"{kind} {namespace}/{name} not found")
            if expect_version is not None and str(row["resource_version"]) != str(expect_version):
                raise Conflict(f"{kind} {namespace}/{name}: resourceVersion {expect_version} is stale "
                               f"(now {row['resource_version']})")
            if state is None:
                c.execute("UPDATE resources SET status=?, resource_version=resource_version+1 "
                          "WHERE kind=? AND namespace=? AND name=?", (_j(status), kind, namespace, name))
            else:
                c.execute("UPDATE resources SET status=?, state=?, resource_version=resource_version+1 "
                          "WHERE kind=? AND namespace=? AND name=?", (_j(status), _j(state), kind, namespace, name))

    def mark_deleting(self, kind, namespace, name):
        with self.tx() as c:
            n = c.execute("UPDATE resources SET deleting=1, resource_version=resource_version+1 "
                          "WHERE kind=? AND namespace=? AND name=?", (kind, namespace, name)).rowcount
        if not n:
            raise NotFound(f"{kind} {namespace}/{name} not found")

    def remove(self, kind, namespace, name):
        """Forget a resource and everything the runtime kept for it."""
        with self.tx() as c:
            c.execute("DELETE FROM resources WHERE kind=? AND namespace=? AND name=?", (kind, namespace, name))
            if kind == JOB:
                c.execute("DELETE FROM job_samples WHERE namespace=? AND job=?", (namespace, name))
                c.execute("DELETE FROM workers WHERE namespace=? AND job=?", (namespace, name))
            elif kind == DATASET:
                c.execute("DELETE FROM dataset_lines WHERE namespace=? AND dataset=?", (namespace, name))
                c.execute("DELETE FROM dataset_watch WHERE namespace=? AND name=?", (namespace, name))

    # ------------------------------------------------------------------ datasets
    def watch_state(self, namespace, name):
        row = self._conn().execute("SELECT * FROM dataset_watch WHERE namespace=? AND name=?",
                                   (namespace, name)).fetchone()
        return (json.loads(row["watch"]), row["url"], row["lines"]) if row else (None, None, 0)

    def add_dataset_lines(self, namespace, name, url, lines, watch):
        """Append lines seen in the index and the watcher's new position, atomically."""
        with self.tx() as c:
            row = c.execute("SELECT lines FROM dataset_watch WHERE namespace=? AND name=?",
                            (namespace, name)).fetchone()
            start = row["lines"] if row else 0
            if lines:
                c.executemany("INSERT INTO dataset_lines (namespace, dataset, seq, line) VALUES (?,?,?,?)",
                              ((namespace, name, start + i, ln) for i, ln in enumerate(lines)))
            c.execute("INSERT INTO dataset_watch (namespace, name, url, watch, lines) VALUES (?,?,?,?,?) "
                      "ON CONFLICT(namespace, name) DO UPDATE SET url=excluded.url, watch=excluded.watch, "
                      "lines=excluded.lines", (namespace, name, url, _j(watch), start + len(lines)))
        return start + len(lines)

    def dataset_lines_range(self, namespace, name, start, end):
        """The Dataset's samples ``start..end-1`` (their numbers are their ``seq``)."""
        return [r["line"] for r in self._conn().execute(
            "SELECT line FROM dataset_lines WHERE namespace=? AND dataset=? AND seq>=? AND seq<? ORDER BY seq",
            (namespace, name, int(start), int(end)))]

    # --------------------------------------------------------------- job samples
    def legacy_pool(self, namespace, job, state):
        """A job's pool (:mod:`sedna.control.pool`) from a state folder that kept
        the pool as ``job_samples`` rows and a ``cursor``: pending rows return to it."""
        if "cursor" not in state or "pool_start" in state:
            return state
        row = self._conn().execute("SELECT min(seq) AS s FROM job_samples WHERE namespace=? AND job=? AND round "
                                   "IS NULL", (namespace, job)).fetchone()
        start = row["s"] if row["s"] is not None else int(state["cursor"])
        later = self._conn().execute("SELECT count(*) AS n FROM job_samples WHERE namespace=? AND job=? AND seq>=?",
                                     (namespace, job, start)).fetchone()["n"]
        state = {k: v for k, v in state.items() if k != "cursor"}
        return dict(state, pool_start=start, split_counter=max(0, int(state.get("split_counter", 0)) - later))

    # ------------------------------------------------------------------- workers
    def add_worker(self, namespace, name, job, stage, round_no, record=None):
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO workers (namespace, name, job, stage, round, record, phase, "
                      "created) VALUES (?,?,?,?,?,?,'Pending',?)",
                      (namespace, name, job, stage, round_no, _j(record or {}), now_ts()))

    def set_worker(self, namespace, name, **fields):
        cols, args = [], []
        for k, v in fields.items():
            cols.append(f"{k}=?")
            args.append(_j(v) if k in ("record", "report") else v)
        with self.tx() as c:
            c.execute(f"UPDATE workers SET {', '.join(cols)} WHERE namespace=? AND name=?", (*args, namespace, name))

    def mint_worker_token(self, namespace, name):
        """A new secret for worker ``namespace/name`` (its ``LC_TOKEN``); only its hash is stored."""
        token = "w." + secrets.token_urlsafe(32)
        with self.tx() as c:
            c.execute("UPDATE workers SET token_hash=? WHERE namespace=? AND name=?",
                      (_token_hash(token), namespace, name))
        return token

    def worker_by_token(self, token):
        """``(namespace, name)`` of the worker holding ``token``, or None."""
        if not token or not token.startswith("w."):
            return None
        row = self._conn().execute("SELECT namespace, name FROM workers WHERE token_hash=?",
                                   (_token_hash(token),)).fetchone()
        return (row["namespace"], row["name"]) if row else None

    def workers(self, namespace=None, job=None, limit=None, after=None):
        """Workers by (created, namespace, name); ``limit``/``after`` page as in :meth:`list`."""
        sql, args = "SELECT * FROM workers WHERE 1=1", []
        if namespace:
            sql += " AND namespace=?"
            args.append(namespace)
        if job:
            sql += " AND job=?"
            args.append(job)
        if after:
            sql += " AND (created, namespace, name) > (?, ?, ?)"
            args += list(after)
        sql += " ORDER BY created, namespace, name"
        if limit:
            sql += " LIMIT ?"
            args.append(int(limit))
        out = []
        for r in self._conn().execute(sql, args):
            d = dict(r)
            d["record"] = json.loads(d["record"] or "{}")
            d["report"] = json.loads(d["report"]) if d["report"] else None
            d.pop("token_hash", None)
            out.append(d)
        return out

    def worker_counts(self):
        """Per (namespace, job, stage): ``workers`` started and the distinct ``rounds``
        they served; one aggregate query (its answer does not grow with the rounds). For ``/metrics``."""
        return [dict(r) for r in self._conn().execute(
            "SELECT namespace, job, stage, count(*) AS workers, count(DISTINCT round) AS rounds FROM workers "
            "GROUP BY namespace, job, stage ORDER BY namespace, job, stage")]

    def stage_durations(self, bounds):
        """Per stage, of the train and eval workers that ended by themselves
        (Succeeded/Failed): their ``count``, run time in ``seconds`` (created to
        finished, summed) and ``le``: how many ran at most each of ``bounds``
        seconds; one aggregate query. For ``/metrics``."""
        bounds = [float(b) for b in bounds]
        le = "".join(f", sum(secs <= ?) AS le{i}" for i in range(len(bounds)))
        sql = ("SELECT stage, count(*) AS count, total(secs) AS seconds" + le + " FROM (SELECT stage, "
               "max(0.0, (julianday(finished) - julianday(created)) * 86400.0) AS secs FROM workers WHERE stage IN "
               "('train', 'eval') AND phase IN ('Succeeded', 'Failed') AND finished IS NOT NULL) WHERE secs IS NOT "
               "NULL GROUP BY stage ORDER BY stage")
        return [{"stage": r["stage"], "count": r["count"], "seconds": r["seconds"],
                 "le": [r[f"le{i}"] for i in range(len(bounds))]} for r in self._conn().execute(sql, bounds)]

    def worker(self, namespace, name):
        for w in self.workers(namespace):
            if w["name"] == name:
                return w
        raise NotFound(f"worker {namespace}/{name} not found")
