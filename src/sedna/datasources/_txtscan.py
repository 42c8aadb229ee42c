"""Vectorised parsing of whitespace-separated index files (no callback).

Semantics are those of ``[line.strip().split() for line in open(path)]``:
lines end at ``\\n`` or ``\\r``; fields are separated by whitespace as
``str.split()`` sees it; blank lines are dropped.

Two passes keep the peak memory close to the size of the result:

1. Each chunk of the file (about 1 MiB, cut after a line end) is scanned with
   numpy on its bytes; only the offsets and lengths of the fields we need are
   kept (a few int32 per line), plus the widest field.
2. The result arrays are allocated once, at their final size and width, and
   the chunks are read again and their fields copied straight into them.

Chunks with bytes outside ASCII are decoded and split in Python, so Unicode
whitespace and multi-byte characters behave exactly as ``str.split()``.

Memory stays linear in the input: fields are copied in groups of similar
width (no ``width x width`` mask), and a column whose fixed-width ``<U w``
array would be mostly padding (one very long field among many short ones)
becomes an object array of ``str`` instead.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from sedna.common.exceptions import DataParseError

CHUNK = 1 << 20

# bytes that str.split() treats as whitespace, within ASCII
_WS = np.zeros(256, dtype=bool)
for _c in b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f":
    _WS[_c] = True

_I32 = np.int32


class _Vec:
    """Pass-1 record of a chunk scanned with numpy."""

    __slots__ = ("offset", "length", "n", "a_s", "a_l", "b_s", "b_l", "counts")

    def __init__(self, offset, length, n, a_s, a_l, b_s=None, b_l=None, counts=None):
        self.offset, self.length, self.n = offset, length, n
        self.a_s, self.a_l, self.b_s, self.b_l, self.counts = a_s, a_l, b_s, b_l, counts


class _Py:
    """Pass-1 record of a chunk split in Python (non-ASCII bytes)."""

    __slots__ = ("n", "rows")

    def __init__(self, rows):
        self.rows, self.n = rows, len(rows)


def _iter_chunks(f, chunk=CHUNK):
    """Yield ``(file_offset, bytearray, end)``: ``buf[:end]`` holds whole lines
    and ends with a line break (one is appended at EOF when missing; the
    buffer always has spare room for it)."""
    cap = chunk
    buf = bytearray(cap + 1)
    filled = 0
    offset = 0
    eof = False
    while not eof:
        mv = memoryview(buf)
        while filled < cap:
            got = f.readinto(mv[filled:cap])
            if not got:
                eof = True
                break
            filled += got
        del mv
        if filled == 0:
            return
        if eof:
            end = filled
            if buf[end - 1] not in (10, 13):
                buf[end] = 10
                yield offset, buf, end + 1, end
            else:
                yield offset, buf, end, end
            return
        end = max(buf.rfind(b"\n", 0, filled), buf.rfind(b"\r", 0, filled)) + 1
        if end == 0:  # one line longer than the buffer: grow
            cap *= 2
            bigger = bytearray(cap + 1)
            bigger[:filled] = buf[:filled]
            buf = bigger
            continue
        yield offset, buf, end, end
        rest = filled - end
        buf[:rest] = buf[end:filled]
        offset += end
        filled = rest


def _scan_regular(arr, raw):
    """Fast path: no blank lines, no leading/trailing or doubled whitespace.

    Returns the record fields, or None when the chunk is not that regular.
    """
    if arr[0] <= 32:
        return None
    wp = np.flatnonzero(arr <= 32)
    c = arr[wp]
    if not _WS[c].all():  # other control characters: they are field bytes
        return None
    if len(wp) > 1 and not (np.diff(wp) > 1).all():
        return None
    isnl = c == 10
    if (c == 13).any():
        isnl |= c == 13
    nl_idx = np.flatnonzero(isnl)
    n = len(nl_idx)
    if raw:
        ts = np.empty(len(wp), dtype=np.int64)
        ts[0] = 0
        ts[1:] = wp[:-1] + 1
        counts = np.diff(nl_idx, prepend=-1)
        return n, ts.astype(_I32), (wp - ts).astype(_I32), None, None, counts
    fidx = np.empty(n, dtype=np.int64)
    fidx[0] = 0
    fidx[1:] = nl_idx[:-1] + 1
    xs = np.empty(n, dtype=np.int64)
    xs[0] = 0
    xs[1:] = wp[nl_idx[:-1]] + 1
    xe = wp[fidx]
    has2 = ~isnl[fidx]
    ys = xe + 1
    ye = wp[np.minimum(fidx + 1, len(wp) - 1)]
    yl = np.where(has2, ye - ys, 0)
    return n, xs.astype(_I32), (xe - xs).astype(_I32), ys.astype(_I32), yl.astype(_I32), None


def _scan_general(arr, raw):
    """Any ASCII chunk (blank lines, runs of spaces, CRLF, control bytes)."""
    ws = _WS[arr]
    prev = np.empty_like(ws)
    prev[0] = True
    prev[1:] = ws[:-1]
    ts = np.flatnonzero(~ws & prev)
    te = np.flatnonzero(ws & ~prev)
    t = len(ts)
    if t == 0:
        z = np.zeros(0, dtype=_I32)
        return 0, z, z, z, z, np.zeros(0, dtype=np.int64)
    nlpos = np.flatnonzero((arr == 10) | (arr == 13))
    lid = np.searchsorted(nlpos, ts)
    first = np.empty(t, dtype=bool)
    first[0] = True
    first[1:] = lid[1:] != lid[:-1]
    fi = np.flatnonzero(first)
    n = len(fi)
    if raw:
        counts = np.diff(fi, append=t)
        return n, ts.astype(_I32), (te - ts).astype(_I32), None, None, counts
    xs = ts[fi]
    nx = fi + 1
    nxc = np.minimum(nx, t - 1)
    has2 = (nx < t) & (lid[nxc] == lid[fi])
    ys = ts[nxc]
    yl = np.where(has2, te[nxc] - ys, 0)
    return n, xs.astype(_I32), (te[fi] - xs).astype(_I32), ys.astype(_I32), yl.astype(_I32), None


def _split_py(data, path, offset, raw, name=None):
    """Exact ``str`` semantics for a chunk with non-ASCII bytes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = _line_of(path, offset + err.start)
        raise DataParseError(name or path, line, f"not valid UTF-8 ({err.reason})") from None
    rows = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        tup = line.split()
        if tup:
            rows.append(tup if raw else (tup[0], tup[1] if len(tup) > 1 else None))
    return _Py(rows)


def _line_of(path, pos):
    with open(path, "rb") as f:
        head = f.read(pos)
    return head.count(b"\n") + 1


class FileScan:
    """Pass 1 over one file."""

    def __init__(self, path, raw=False, need_y=True, chunk=None, name=None):
        chunk = chunk or CHUNK
        self.name = name or path
        self.path, self.raw, self.need_y = path, raw, need_y
        self.records = []
        self.n = 0
        self.wa = 0          # widest first field (raw: widest field)
        self.wb = 0          # widest second field
        self.ta = 0          # total length of first fields (raw: of all fields)
        self.tb = 0          # total length of second fields
        self.missing_b = 0   # lines without a second field
        self.counts = set()  # raw: distinct numbers of fields per line
        self.max_chunk = 0
        with open(path, "rb") as f:
            for offset, buf, end, _ in _iter_chunks(f, chunk):
                arr = np.frombuffer(buf, dtype=np.uint8, count=end)
                if arr.max() >= 128:
                    rec = _split_py(bytes(buf[:end]), path, offset, raw, self.name)
                    self._note_py(rec)
                else:
                    res = _scan_regular(arr, raw)
                    if res is None:
                        res = _scan_general(arr, raw)
                    n, a_s, a_l, b_s, b_l, counts = res
                    rec = _Vec(offset, end, n, a_s, a_l, b_s, b_l, counts)
                    self._note_vec(rec)
                del arr
                self.max_chunk = max(self.max_chunk, end)
                if rec.n:
                    self.records.append(rec)
                    self.n += rec.n

    def _note_vec(self, rec):
        if not rec.n:
            return
        self.wa = max(self.wa, int(rec.a_l.max()))
        self.ta += int(rec.a_l.sum(dtype=np.int64))
        if self.raw:
            self.counts.update(np.unique(rec.counts).tolist())
            return
        if self.need_y:
            self.wb = max(self.wb, int(rec.b_l.max()))
            self.tb += int(rec.b_l.sum(dtype=np.int64))
            self.missing_b += int(np.count_nonzero(rec.b_l == 0))
        else:
            rec.b_s = rec.b_l = None

    def _note_py(self, rec):
        for row in rec.rows:
            if self.raw:
                self.counts.add(len(row))
                self.wa = max(self.wa, max(map(len, row)))
                self.ta += sum(map(len, row))
            else:
                self.wa = max(self.wa, len(row[0]))
                self.ta += len(row[0])
                if self.need_y:
                    if row[1] is None:
                        self.missing_b += 1
                    else:
                        self.wb = max(self.wb, len(row[1]))
                        self.tb += len(row[1])


# Fields up to this many bytes are copied with a (rows, width) window and a
# keep-mask of that width; longer ones one by one (at most chunk/_WIDE of them).
_WIDE = 256


def _copy_fields(out, r0, arr, starts, lens):
    """``out[r0+i, :len_i] = arr[start_i : start_i+len_i]`` for every i.

    Rows are grouped by the next power of two of their length, so the
    temporary windows hold at most twice the bytes copied; fields longer
    than ``_WIDE`` are copied one by one. ``out`` starts zeroed, so empty
    fields need nothing.
    """
    if not len(starts):
        return
    lens = np.asarray(lens, dtype=np.int64)
    wide = np.flatnonzero(lens > _WIDE)
    for i in wide.tolist():
        s, n = int(starts[i]), int(lens[i])
        out[r0 + i, :n] = arr[s:s + n]
    small = (lens > 0) & (lens <= _WIDE)
    if not small.any():
        return
    group = np.zeros(len(lens), dtype=np.int64)
    top = int(lens[small].max())
    if len(lens) * top <= _PAD_FACTOR * int(lens[small].sum()) + 4096:
        group[small] = (top - 1).bit_length()  # one window: little padding anyway
    else:
        group[small] = np.ceil(np.log2(lens[small])).astype(np.int64)
    for k in np.unique(group[small]).tolist():
        idx = np.flatnonzero(small & (group == k))
        w = min(1 << k, out.shape[1])
        win = as_strided(arr, shape=(len(arr) - w + 1, w), strides=(1, 1), writeable=False)
        g = win[starts[idx]]
        ls = lens[idx]
        rows = slice(r0 + int(idx[0]), r0 + int(idx[0]) + len(idx)) \
            if int(idx[-1]) - int(idx[0]) + 1 == len(idx) else r0 + idx
        if int(ls.min()) == w:
            out[rows, :w] = g
        else:  # keep the first len_i bytes of row i: multiply by a 0/1 row mask
            out[rows, :w] = g * _keep_mask(w)[ls]


_MASKS = {}


def _keep_mask(w):
    """``(w+1, w)`` uint8: row ``k`` is ``k`` ones then zeros (``w <= _WIDE``)."""
    m = _MASKS.get(w)
    if m is None:
        m = (np.arange(w) < np.arange(w + 1)[:, None]).astype(np.uint8)
        _MASKS[w] = m
    return m


# A column is stored fixed-width (``<U w``, what ``np.array`` of the strings
# gives) unless that would take more than _PAD_FACTOR times its characters
# and more than _FIXED_BUDGET characters in all: then it is an object array.
_PAD_FACTOR = 4
_FIXED_BUDGET = 16 << 20


def _u_empty(n, w):
    """A zeroed (n, w) uint32 buffer and its (n,) ``<U w`` view."""
    w = max(w, 1)
    buf = np.zeros((n, w), dtype=np.uint32)
    return buf, buf.view(np.dtype(("U", w))).reshape(n)


class _Column:
    """The destination of one field over all lines: ``.arr`` when filled."""

    def __init__(self, n, width, total):
        self.width = max(width, 1)
        self.fixed = n * self.width <= max(_FIXED_BUDGET, _PAD_FACTOR * total)
        if self.fixed:
            self.buf, self.arr = _u_empty(n, self.width)
        else:
            self.buf, self.arr = None, np.empty(n, dtype=object)

    def put(self, r0, items):
        """Rows ``r0...`` from a list of ``str``."""
        self.arr[r0:r0 + len(items)] = items

    def put_vec(self, r0, arr, starts, lens):
        """Rows ``r0...`` from ASCII fields of a chunk read into ``arr``."""
        if self.fixed:
            _copy_fields(self.buf, r0, arr, starts, lens)
            return
        if not len(starts):
            return
        end = int((starts.astype(np.int64) + lens).max())
        blob = arr[:end].tobytes()
        self.put(r0, [blob[a:a + n].decode("ascii")
                      for a, n in zip(starts.tolist(), lens.tolist())])

    def fill(self, rows, text):
        """Set the given (empty) rows to a one-character string."""
        if self.fixed:
            self.buf[rows, 0] = ord(text)
        else:
            self.arr[rows] = text


def build_arrays(scans, need_y):
    """Pass 2: the ``x`` and ``y`` arrays of the tutorial's TxtDataParse."""
    n = sum(s.n for s in scans)
    if n == 0:
        return np.array([]), np.array([])
    xcol = _Column(n, max(s.wa for s in scans), sum(s.ta for s in scans))
    y, ycol = np.array([]), None
    missing = sum(s.missing_b for s in scans)
    if need_y:
        if missing == n:
            y = np.zeros(n, dtype=np.array([0]).dtype)
        else:
            wb = max(s.wb for s in scans)
            if missing:  # np.array(["a", 0]) is '<U21': keep that width
                wb = max(wb, np.result_type(np.dtype("U1"), np.array([0]).dtype).itemsize // 4)
            ycol = _Column(n, wb, sum(s.tb for s in scans) + missing)
    pad = max(xcol.width, ycol.width if ycol is not None else 0) + 1
    r0 = 0
    for s in scans:
        rbuf = bytearray(s.max_chunk + pad)
        arr = np.frombuffer(rbuf, dtype=np.uint8)
        recs, s.records = s.records[::-1], []
        with open(s.path, "rb") as f:
            while recs:
                rec = recs.pop()  # freed as soon as copied
                if isinstance(rec, _Py):
                    xcol.put(r0, [row[0] for row in rec.rows])
                    if ycol is not None:
                        ycol.put(r0, ["0" if row[1] is None else row[1] for row in rec.rows])
                    r0 += rec.n
                    continue
                f.seek(rec.offset)
                f.readinto(memoryview(rbuf)[:rec.length])
                xcol.put_vec(r0, arr, rec.a_s, rec.a_l)
                if ycol is not None:
                    ycol.put_vec(r0, arr, rec.b_s, rec.b_l)
                    if missing:
                        ycol.fill(r0 + np.flatnonzero(rec.b_l == 0), "0")
                r0 += rec.n
        del arr
    return xcol.arr, (ycol.arr if ycol is not None else y)


def build_raw(scans):
    """Pass 2 for ``use_raw``: a 2-D array of all fields when every line has
    the same number of them, else an object array of lists."""
    n = sum(s.n for s in scans)
    if n == 0:
        return np.array([])
    counts = set().union(*(s.counts for s in scans))
    ntok = 0
    for s in scans:
        for rec in s.records:
            ntok += sum(len(r) for r in rec.rows) if isinstance(rec, _Py) else len(rec.a_s)
    col = _Column(ntok, max(s.wa for s in scans), sum(s.ta for s in scans))
    t0 = 0
    per_line = []
    for s in scans:
        rbuf = bytearray(s.max_chunk + col.width + 1)
        arr = np.frombuffer(rbuf, dtype=np.uint8)
        with open(s.path, "rb") as f:
            for rec in s.records:
                if isinstance(rec, _Py):
                    flat = [t for row in rec.rows for t in row]
                    col.put(t0, flat)
                    t0 += len(flat)
                    per_line.append(np.fromiter((len(r) for r in rec.rows), dtype=np.int64))
                    continue
                f.seek(rec.offset)
                f.readinto(memoryview(rbuf)[:rec.length])
                col.put_vec(t0, arr, rec.a_s, rec.a_l)
                t0 += len(rec.a_s)
                per_line.append(np.asarray(rec.counts, dtype=np.int64))
        del arr
    toks = col.arr
    if len(counts) == 1:
        return toks.reshape(n, counts.pop())
    bounds = np.cumsum(np.concatenate(per_line))[:-1]
    out = np.empty(n, dtype=object)
    for i, part in enumerate(np.split(toks, bounds)):
        out[i] = part.tolist()
    return out
