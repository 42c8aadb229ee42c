"""Rounds: watching a Dataset's index and round files (the split of a round's lines
is :mod:`sedna.control.split`).

Independent pieces, all free of threads and clocks (file I/O only), so
both runtimes and the tests drive them with plain data:

* :class:`IndexWatcher` reads only the bytes appended to an index file since
  the offset stored in a :class:`WatchState`, and notices a file that went
  missing, shrank, or was replaced. The caller persists the state (it is
  JSON-able) together with whatever it does with the new lines, in one
  transaction, so a crash never counts a line twice or loses one.
* :class:`RoundFiles` names and writes the per-round files of the contract
  (``outputDir/data/{train,eval}/<r>/data.txt``, ``data.csv`` for a CSV
  Dataset with its header on every file, the job's knowledge base
  ``outputDir/kb`` (versions 1..n across rounds), ``outputDir/eval/<r>``,
  ``outputDir/deploy``).

Watcher policy (what "no miscount" means here)
-----------------------------------------------
``WatchState.lines_total`` counts the sample lines the watcher has handed out
(complete, non-blank, valid UTF-8), cumulatively, and never goes back.

* **Appends**: only ``[offset, size)`` is read; complete lines are returned;
  the bytes of a trailing line without its newline are *not* consumed (the
  offset stops after the last newline), so a line written in two pieces is
  returned once, whole, by the poll that sees its newline.
* **Missing** file: event ``"Missing"``, no lines, the state is returned
  unchanged (a later reappearance is a new inode, hence ``"Replaced"``).
* **Not a regular file** (a folder, a FIFO, a device): event ``"NotRegular"``,
  no lines, state unchanged. The file is opened with ``O_NONBLOCK`` and kept
  only if ``fstat`` says it is regular, so a FIFO never blocks the caller.
  Any other error opening it (permissions, a symlink loop): ``"Unreadable"``.
* **Truncated** (same file, now smaller than the offset): event
  ``"Truncated"``, *no lines*: the current content is presumed to be samples
  already seen (or not worth re-training on), so the offset moves to the end
  of the last complete line of the current content and only lines appended
  after that are new. ``lines_total`` is not reduced and nothing is counted
  twice.
* **Replaced** (different inode or device, or same inode whose first 64
  bytes, or the 64 bytes before the offset, changed): event ``"Replaced"``;
  by default the same policy as truncation (``on_replace="skip"``). With
  ``on_replace="read_all"`` every complete line of the new file is returned
  as new.

The first 64 bytes (``head``) and the 64 bytes before the offset (``tail``)
are compared on every poll: two small reads that catch a file rewritten in
place with the same inode, including index files whose first line never
changes. A rewrite that keeps both windows byte-identical is indistinguishable
from the original without reading the whole file, and is not detected.

Events are :class:`WatchEvent` values: a ``str`` equal to the reason
(``"Missing"``, ``"NotRegular"``, ``"Unreadable"``, ``"Truncated"``, ``"Replaced"``,
``"InvalidLines"``) that also
carries a human ``message`` for a condition on the Dataset. A poll that both
skipped invalid lines and noticed a truncation/replacement reports the latter
and mentions the skipped lines in its message.
"""

import base64
import os
import posixpath
from dataclasses import asdict, dataclass, fields, replace

from sedna.common.file_ops import FileOps
from sedna.control.files import NotRegularFile, open_regular
from sedna.common.log import LOGGER

__all__ = (
    "WatchState",
    "WatchEvent",
    "IndexWatcher",
    "RoundFiles",
    "round_file_name",
    "round_paths",
    "HEAD_BYTES",
    "TAIL_BYTES",
)

HEAD_BYTES = 64
TAIL_BYTES = 64
#: Bytes of new lines one poll reads at most: a huge append is taken in bounded pieces, one per
#: poll (about 80,000 lines of 50 bytes), so neither memory nor a database transaction grows with it.
MAX_POLL_BYTES = 4 << 20

_ON_REPLACE = ("skip", "read_all")


def _b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


def _unb64(text):
    return base64.b64decode(text.encode("ascii")) if text else b""


@dataclass(frozen=True)
class WatchState:
    """Where a watcher stands in one index file. Persist it with ``to_dict``.

    ``offset``: bytes consumed (always just after a newline, or 0).
    ``inode``/``device``: ``st_ino``/``st_dev`` of the file read last (None
    before the first read). ``size``/``mtime_ns``: as seen at the last read.
    ``lines_total``: sample lines handed out so far (cumulative).
    ``skipped_total``: invalid UTF-8 lines skipped so far (cumulative).
    ``head``: base64 of the file's first ``HEAD_BYTES`` bytes at the last read.
    ``tail``: base64 of the ``TAIL_BYTES`` bytes just before ``offset``.
    ``partial``: bytes of a trailing line without newline, left unconsumed.
    ``header``: the file's first line when polled with ``header=True`` (CSV):
    never handed out as a sample nor counted in ``lines_total``.
    """

    offset: int = 0
    inode: int | None = None
    device: int | None = None
    size: int = 0
    mtime_ns: int = 0
    lines_total: int = 0
    skipped_total: int = 0
    head: str = ""
    tail: str = ""
    partial: int = 0
    header: str = ""

    def to_dict(self):
        """A JSON-serialisable dict (ints, strings, None)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        """The inverse of ``to_dict``; unknown keys are ignored, missing ones default."""
        if data is None:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(data).items() if k in known})

    @property
    def head_bytes(self):
        return _unb64(self.head)

    @property
    def tail_bytes(self):
        return _unb64(self.tail)


class WatchEvent(str):
    """A poll event: compares equal to its reason; ``.message`` explains it."""

    def __new__(cls, reason, message=""):
        obj = super().__new__(cls, reason)
        obj.reason = reason
        obj.message = message or reason
        return obj

    def __repr__(self):
        return f"WatchEvent({self.reason!r}, {self.message!r})"


def _pread(fd, n, offset):
    """Read up to ``n`` bytes at ``offset`` (loops over short reads)."""
    chunks = []
    while n > 0:
        chunk = os.pread(fd, n, offset)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _last_line_end(fd, size, block=65536):
    """Offset just after the last newline in ``[0, size)``, 0 if none.

    Reads backwards from the end, so it costs the length of the last
    (incomplete) line, not the file.
    """
    end = size
    while end > 0:
        start = max(0, end - block)
        data = _pread(fd, end - start, start)
        i = data.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        end = start
    return 0


def _next_line_end(fd, pos, size, block=1 << 20):
    """Offset just after the first newline at or after ``pos``, or None before ``size``
    (a line still being written). Reads forward in blocks: memory stays bounded."""
    while pos < size:
        data = _pread(fd, min(block, size - pos), pos)
        i = data.find(b"\n")
        if i >= 0:
            return pos + i + 1
        pos += len(data)
    return None


def _first_line(fd, limit=65536):
    """The first complete non-blank line of the file ("" if none within ``limit`` bytes)."""
    data = _pread(fd, limit, 0)
    lines, _ = _decode_lines(data[:data.rfind(b"\n") + 1])
    return lines[0] if lines else ""


def _decode_lines(data):
    """Complete lines of ``data`` (which ends at a newline) -> (lines, n_invalid).

    Blank (whitespace-only) lines are dropped, a trailing ``\\r`` is removed,
    a line that is not valid UTF-8 is skipped and counted.
    """
    if not data:
        return [], 0
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        raw = text.split("\n")
        raw.pop()  # data ends with "\n": the last piece is empty
        out = []
        for line in raw:
            if line.endswith("\r"):
                line = line.rstrip("\r")
            if line and not line.isspace():
                out.append(line)
        return out, 0
    out, bad = [], 0
    pieces = data.split(b"\n")
    pieces.pop()
    for piece in pieces:
        try:
            line = piece.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
            continue
        line = line.rstrip("\r")
        if line and not line.isspace():
            out.append(line)
    return out, bad


class IndexWatcher:
    """Incremental reader of an index file; see the module docstring for policy.

    Stateless itself: everything lives in the :class:`WatchState` the caller
    passes in and persists. ``on_replace`` (``"skip"`` or ``"read_all"``) is
    the default for :meth:`poll`.
    """

    def __init__(self, on_replace="skip"):
        if on_replace not in _ON_REPLACE:
            raise ValueError(f"on_replace must be one of {_ON_REPLACE}, got {on_replace!r}")
        self.on_replace = on_replace

    def poll(self, path, state=None, on_replace=None, header=False):
        """Return ``(new_lines, new_state, event)`` for ``path`` since ``state``.

        ``state`` None (or a default ``WatchState()``) reads the file from the
        start. Cost: one fstat, two reads of at most 64 bytes, and one read of
        the appended bytes. ``event`` is None or a :class:`WatchEvent`.
        ``header=True`` (a CSV index): the file's first non-blank line is its
        header, kept in ``new_state.header``, never returned as a sample; it is
        read again whenever the file was truncated or replaced.
        """
        state = state if state is not None else WatchState()
        on_replace = on_replace or self.on_replace
        if on_replace not in _ON_REPLACE:
            raise ValueError(f"on_replace must be one of {_ON_REPLACE}, got {on_replace!r}")
        path = os.fspath(path)
        if isinstance(path, str):
            path = FileOps._local(path)  # accept file:// URLs
        try:
            fd = open_regular(path)  # O_NONBLOCK: a FIFO cannot block the caller
        except (FileNotFoundError, NotADirectoryError):
            event = WatchEvent("Missing", f"index file {path} does not exist")
            LOGGER.debug("index watch: %s", event.message)  # repeats every tick: not a warning
            return [], state, event
        except NotRegularFile as e:
            return [], state, WatchEvent("NotRegular", f"index file {e}")
        except OSError as e:
            return [], state, WatchEvent("Unreadable", f"index file {path} cannot be opened: "
                                                       f"{e.strerror or e}")
        try:
            return self._poll_fd(fd, path, state, on_replace, header)
        finally:
            os.close(fd)

    def _poll_fd(self, fd, path, state, on_replace, header=False):
        st = os.fstat(fd)
        size = st.st_size
        reason, message = self._check_identity(fd, st, state)
        start = state.offset
        if reason is not None:
            if reason == "Replaced" and on_replace == "read_all":
                start = 0
                message += "; all its lines are read as new"
            else:
                start = _last_line_end(fd, size)
                message += (f"; its current content ({start} bytes of complete lines) "
                            f"is not counted, only lines appended from now on")
        data = _pread(fd, min(size - start, MAX_POLL_BYTES), start) if size > start else b""
        cut = data.rfind(b"\n") + 1  # 0 when no complete line
        lines, bad = _decode_lines(data[:cut])
        offset, why = start + cut, "not valid UTF-8"
        if not cut and len(data) == MAX_POLL_BYTES:  # one line longer than a poll reads: skipped whole
            end = _next_line_end(fd, start + len(data), size)
            if end is not None:
                data, offset, bad, why = b"", end, 1, f"over {MAX_POLL_BYTES} bytes"
        head_line = state.header
        if header and start == 0:
            head_line = lines.pop(0) if lines else ""
        elif header and (reason is not None or not head_line):
            head_line = _first_line(fd)
        if bad:
            note = f"{bad} line(s) of {path} skipped: {why}"
            if reason is None:
                reason, message = "InvalidLines", note
            else:
                message += f"; {note}"
        head = _pread(fd, HEAD_BYTES, 0) if size else b""
        tail = _pread(fd, min(TAIL_BYTES, offset), offset - min(TAIL_BYTES, offset)) if offset else b""
        new_state = replace(
            state,
            offset=offset,
            inode=st.st_ino,
            device=st.st_dev,
            size=size,
            mtime_ns=st.st_mtime_ns,
            lines_total=state.lines_total + len(lines),
            skipped_total=state.skipped_total + bad,
            head=_b64(head),
            tail=_b64(tail),
            partial=len(data) - cut,
            header=head_line,
        )
        event = None
        if reason is not None:
            event = WatchEvent(reason, message)
            LOGGER.warning("index watch: %s: %s", reason, message)
        return lines, new_state, event

    @staticmethod
    def _check_identity(fd, st, state):
        """(reason, message) if the file is not the one ``state`` was reading."""
        if state.inode is None:  # never read: nothing to compare with
            return None, ""
        if st.st_ino != state.inode or (state.device is not None and st.st_dev != state.device):
            return "Replaced", (f"index file was replaced (inode {state.inode} -> {st.st_ino})")
        if st.st_size < state.offset:
            return "Truncated", (f"index file shrank to {st.st_size} bytes, below the "
                                 f"{state.offset} bytes already read")
        head = state.head_bytes
        if head and _pread(fd, len(head), 0) != head:
            return "Replaced", "index file was rewritten in place (its first bytes changed)"
        tail = state.tail_bytes
        if tail and _pread(fd, len(tail), state.offset - len(tail)) != tail:
            return "Replaced", ("index file was rewritten in place (the bytes before "
                                f"offset {state.offset} changed)")
        return None, ""


def _round_name(r):
    """The round as a folder name: a non-negative integer, nothing else."""
    if isinstance(r, bool):
        raise ValueError(f"round must be a non-negative integer, got {r!r}")
    if isinstance(r, int):
        value = r
    elif isinstance(r, str) and r.isascii() and r.isdigit():
        value = int(r)
    else:
        raise ValueError(f"round must be a non-negative integer, got {r!r}")
    if value < 0:
        raise ValueError(f"round must be a non-negative integer, got {r!r}")
    return str(value)


#: Dataset format -> the name of its round files (the original writes ``data.csv`` for CSV).
ROUND_FILE = {"txt": "data.txt", "csv": "data.csv"}


def round_file_name(fmt="txt"):
    """The round index file's name for a Dataset ``format`` (any case); unknown formats: ``data.txt``."""
    return ROUND_FILE.get(str(fmt or "txt").lower(), "data.txt")


class RoundFiles:
    """Paths and writer of the per-round files under a job's ``outputDir``.

    Local paths use the OS separator; URLs (``s3://...``) use ``/``. ``fmt`` is
    the Dataset's format: it names the round files (``data.txt``/``data.csv``).
    """

    def __init__(self, output_dir, fmt="txt"):
        self.output_dir = os.fspath(output_dir)
        self.file_name = round_file_name(fmt)
        self._join = posixpath.join if "://" in self.output_dir else os.path.join

    def train_index(self, r):
        return self._join(self.output_dir, "data", "train", _round_name(r), self.file_name)

    def eval_index(self, r):
        return self._join(self.output_dir, "data", "eval", _round_name(r), self.file_name)

    def knowledge_base(self):
        """The job's one knowledge base: every round's train worker adds a version to it."""
        return self._join(self.output_dir, "kb")

    def eval_output(self, r):
        return self._join(self.output_dir, "eval", _round_name(r))

    def deploy_output(self):
        return self._join(self.output_dir, "deploy")

    @staticmethod
    def _content(lines, header=None):
        lines = list(lines)
        if header:
            lines.insert(0, header)
        for line in lines:
            if "\n" in line or "\r" in line:
                raise ValueError(f"a sample line may not contain a line break: {line!r}")
        return ("\n".join(lines) + "\n") if lines else ""

    def write(self, r, train_lines, eval_lines, header=None):
        """Write round ``r``'s train and eval index files atomically.

        Lines are joined with ``\\n`` plus a trailing ``\\n`` (an empty list
        gives an empty file). ``header`` (a CSV Dataset's first line) heads
        both files, even one with no samples, so each parses on its own.
        Rewriting a round with the same lines yields the same files, so a
        controller that crashed mid-round can simply redo it.
        Returns ``(train_index_path, eval_index_path)``.
        """
        train_path, eval_path = self.train_index(r), self.eval_index(r)
        train_data = self._content(train_lines, header)
        eval_data = self._content(eval_lines, header)
        FileOps.write_atomic(train_path, train_data)
        FileOps.write_atomic(eval_path, eval_data)
        return train_path, eval_path


def round_paths(output_dir, r, fmt="txt"):
    """Where round ``r`` of a job reads and writes (``/``-joined, as the workers' env gets them).
    The knowledge base is one folder per job (``outputDir/kb``): round r's train
    worker adds a version to it, so ``sedna kb list|rollback`` work across rounds."""
    out = output_dir.rstrip("/")
    files = RoundFiles(out, fmt)
    kb = files.knowledge_base()
    return {"train_index": files.train_index(r), "eval_index": files.eval_index(r), "kb": kb,
            "kb_index": f"{kb}/index.json", "eval_output": files.eval_output(r),
            "deploy_output": files.deploy_output(), "deploy_index": f"{files.deploy_output()}/index.json"}
