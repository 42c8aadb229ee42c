"""Rounds: index watcher, in-order split, round files (real files in tmp_path)."""

import json
import math
import os

import pytest

from sedna.control.rounds import (
    HEAD_BYTES,
    IndexWatcher,
    RoundFiles,
    WatchEvent,
    WatchState,
)
from sedna.control.split import split_counts, split_in_order


def _line(i):
    return f"real/berlin/rgb_{i:06d}.png real/berlin/depth_{i:06d}.png real/berlin/label_{i:06d}.png"


def _append(path, data):
    with open(path, "ab") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


@pytest.fixture
def watcher():
    return IndexWatcher()


# ---------------------------------------------------------------- appends


def test_first_poll_reads_everything_then_only_appends(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_text("a 1\nb 2\n")
    lines, st, ev = watcher.poll(p, WatchState())
    assert lines == ["a 1", "b 2"] and ev is None
    assert st.offset == 8 and st.size == 8 and st.lines_total == 2 and st.partial == 0
    assert st.inode == os.stat(p).st_ino and st.device == os.stat(p).st_dev

    lines, st2, ev = watcher.poll(p, st)
    assert lines == [] and ev is None and st2.offset == 8 and st2.lines_total == 2

    _append(p, "c 3\nd 4\n")
    lines, st3, ev = watcher.poll(p, st2)
    assert lines == ["c 3", "d 4"] and ev is None
    assert st3.lines_total == 4 and st3.offset == 16


def test_state_none_means_fresh(tmp_path, watcher):
    p = tmp_path / "i.txt"
    p.write_text("x\n")
    lines, st, ev = watcher.poll(str(p), None)
    assert lines == ["x"] and st.lines_total == 1 and ev is None
    lines, st2, ev = watcher.poll("file://" + str(p), None)  # file:// URLs are local paths
    assert lines == ["x"] and st2 == st and ev is None


def test_write_ending_mid_line_is_completed_by_next_append(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_text("first\nsec")
    lines, st, ev = watcher.poll(p, WatchState())
    assert lines == ["first"] and ev is None
    assert st.offset == len("first\n") and st.partial == 3 and st.size == len("first\nsec")

    lines, st, ev = watcher.poll(p, st)  # nothing new completed
    assert lines == [] and st.partial == 3 and st.lines_total == 1

    _append(p, "ond\nthi")
    lines, st, ev = watcher.poll(p, st)
    assert lines == ["second"] and ev is None and st.partial == 3

    _append(p, "rd\n")
    lines, st, ev = watcher.poll(p, st)
    assert lines == ["third"] and st.partial == 0 and st.lines_total == 3
    assert st.offset == os.path.getsize(p)


def test_crlf_and_blank_lines(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_bytes(b"a.png 1\r\n\r\n\n   \nb.png 2\r\n\t\r\nc.png 3\n")
    lines, st, ev = watcher.poll(p, WatchState())
    assert lines == ["a.png 1", "b.png 2", "c.png 3"] and ev is None
    assert st.lines_total == 3 and st.skipped_total == 0
    # a CR-terminated partial line waits for its LF
    _append(p, b"d.png 4\r")
    lines, st, ev = watcher.poll(p, st)
    assert lines == [] and st.partial == len(b"d.png 4\r")
    _append(p, b"\n")
    lines, st, ev = watcher.poll(p, st)
    assert lines == ["d.png 4"]


def test_invalid_utf8_line_is_skipped_and_reported(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_bytes("ok 1\n".encode() + b"bad \xff\xfe line\n" + "caf\u00e9 2\n".encode())
    lines, st, ev = watcher.poll(p, WatchState())
    assert lines == ["ok 1", "caf\u00e9 2"]
    assert ev == "InvalidLines" and isinstance(ev, WatchEvent)
    assert "1 line" in ev.message and "UTF-8" in ev.message
    assert st.lines_total == 2 and st.skipped_total == 1 and st.offset == os.path.getsize(p)
    _append(p, "next\n")
    lines, st, ev = watcher.poll(p, st)
    assert lines == ["next"] and ev is None and st.skipped_total == 1


def test_multibyte_character_split_across_writes(tmp_path, watcher):
    p = tmp_path / "index.txt"
    data = "\u00e9t\u00e9 \u4e2d\u6587\n".encode()
    p.write_bytes(data[:2])  # cuts inside the first character
    lines, st, ev = watcher.poll(p, WatchState())
    assert lines == [] and ev is None and st.offset == 0
    _append(p, data[2:])
    lines, st, ev = watcher.poll(p, st)
    assert lines == ["\u00e9t\u00e9 \u4e2d\u6587"] and ev is None


# ---------------------------------------------------------------- missing / truncated / replaced


def test_missing_file(tmp_path, watcher):
    p = tmp_path / "index.txt"
    st0 = WatchState(offset=10, inode=1, device=2, size=10, lines_total=3)
    lines, st, ev = watcher.poll(p, st0)
    assert lines == [] and st == st0 and ev == "Missing" and str(p) in ev.message


def test_missing_then_recreated_is_replaced(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_text("a\nb\n")
    _, st, _ = watcher.poll(p, WatchState())
    keep = tmp_path / "keep"  # hold the old inode so it cannot be reused
    os.replace(p, keep)
    lines, st2, ev = watcher.poll(p, st)
    assert ev == "Missing" and st2 == st and lines == []
    p.write_text("c\nd\ne\n")
    lines, st3, ev = watcher.poll(p, st2)
    assert ev == "Replaced" and lines == [] and st3.lines_total == 2


def test_truncation_is_reported_without_miscount(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_text("".join(f"{_line(i)}\n" for i in range(10)))
    lines, st, ev = watcher.poll(p, WatchState())
    assert len(lines) == 10 and st.lines_total == 10

    with open(p, "r+b") as f:  # shrink in place (same inode)
        f.truncate(len(_line(0)) * 2 + 2 + 5)  # two lines and a partial one
    lines, st2, ev = watcher.poll(p, st)
    assert ev == "Truncated" and isinstance(ev, WatchEvent)
    assert "shrank" in ev.message
    assert lines == [] and st2.lines_total == 10  # not reduced, nothing recounted
    assert st2.offset == len(_line(0)) * 2 + 2  # end of the last complete line
    assert st2.inode == st.inode

    # the partial line, once completed, is new (it was never counted), and so are later lines
    _append(p, "\n" + _line(100) + "\n" + _line(101) + "\n")
    lines, st3, ev = watcher.poll(p, st2)
    assert ev is None
    assert lines == [_line(2)[:5], _line(100), _line(101)]
    assert st3.lines_total == 10 + len(lines)
    _append(p, _line(102) + "\n")
    lines, st4, ev = watcher.poll(p, st3)
    assert lines == [_line(102)] and ev is None and st4.lines_total == st3.lines_total + 1


def test_truncation_to_empty_then_appends(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_text("a\nb\nc\n")
    _, st, _ = watcher.poll(p, WatchState())
    open(p, "wb").close()  # same inode, size 0
    lines, st, ev = watcher.poll(p, st)
    assert ev == "Truncated" and lines == [] and st.offset == 0 and st.lines_total == 3
    _append(p, "d\ne\n")
    lines, st, ev = watcher.poll(p, st)
    assert lines == ["d", "e"] and ev is None and st.lines_total == 5


def test_replacement_by_os_replace(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_text("a\nb\n")
    _, st, _ = watcher.poll(p, WatchState())
    new = tmp_path / "new.txt"
    new.write_text("x\ny\nz\npart")
    os.replace(new, p)
    assert os.stat(p).st_ino != st.inode
    lines, st2, ev = watcher.poll(p, st)
    assert ev == "Replaced" and "inode" in ev.message
    assert lines == [] and st2.lines_total == 2
    assert st2.inode == os.stat(p).st_ino and st2.offset == len("x\ny\nz\n") and st2.partial == 4
    _append(p, "ial\nw\n")
    lines, st3, ev = watcher.poll(p, st2)
    assert lines == ["partial", "w"] and ev is None and st3.lines_total == 4


def test_replacement_read_all(tmp_path):
    p = tmp_path / "index.txt"
    p.write_text("a\nb\n")
    w = IndexWatcher()
    _, st, _ = w.poll(p, WatchState())
    new = tmp_path / "new.txt"
    new.write_text("x\ny\nz\n")
    os.replace(new, p)
    lines, st2, ev = w.poll(p, st, on_replace="read_all")
    assert ev == "Replaced" and lines == ["x", "y", "z"] and st2.lines_total == 5
    # the default can be set on the watcher too
    new.write_text("q\n")
    os.replace(new, p)
    lines, _, ev = IndexWatcher(on_replace="read_all").poll(p, st2)
    assert ev == "Replaced" and lines == ["q"]
    with pytest.raises(ValueError):
        IndexWatcher(on_replace="bogus")
    with pytest.raises(ValueError):
        w.poll(p, st2, on_replace="bogus")


def test_replacement_keeping_inode_head_changed(tmp_path, watcher):
    p = tmp_path / "index.txt"
    old = "".join(f"{_line(i)}\n" for i in range(5)).encode()
    p.write_bytes(old)
    _, st, _ = watcher.poll(p, WatchState())
    new = b"X" + old[1:]  # same size, different first byte
    with open(p, "r+b") as f:
        f.truncate(0)
        f.write(new)
    assert os.stat(p).st_ino == st.inode and os.path.getsize(p) == len(old)
    lines, st2, ev = watcher.poll(p, st)
    assert ev == "Replaced" and "first bytes" in ev.message
    assert lines == [] and st2.lines_total == 5 and st2.offset == len(old)


def test_replacement_keeping_inode_and_head_but_not_tail(tmp_path, watcher):
    # index files often start with the same line; the bytes before the offset catch it
    p = tmp_path / "index.txt"
    p.write_text("".join(f"{_line(i)}\n" for i in range(5)))
    _, st, _ = watcher.poll(p, WatchState())
    rewritten = "".join(f"{_line(i if i == 0 else 1000 + i)}\n" for i in range(8))
    with open(p, "r+b") as f:
        f.truncate(0)
        f.write(rewritten.encode())
    lines, st2, ev = watcher.poll(p, st)
    assert ev == "Replaced" and "before offset" in ev.message
    assert lines == [] and st2.lines_total == 5 and st2.offset == len(rewritten)


def test_short_file_head_grows_with_appends(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_text("a\n")
    _, st, _ = watcher.poll(p, WatchState())
    assert st.head_bytes == b"a\n"
    for i in range(40):
        _append(p, f"line{i}\n")
        lines, st, ev = watcher.poll(p, st)
        assert lines == [f"line{i}"] and ev is None
    assert len(st.head_bytes) == HEAD_BYTES and st.lines_total == 41


def test_poll_reads_only_appended_bytes(tmp_path, watcher, monkeypatch):
    p = tmp_path / "index.txt"
    n = 20000
    p.write_text("".join(f"{_line(i)}\n" for i in range(n)))
    _, st, ev = watcher.poll(p, WatchState())
    assert st.lines_total == n and ev is None
    size = os.path.getsize(p)

    # garbage (invalid UTF-8) in the middle of the old content, head and tail intact
    with open(p, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\xff\xfe\xfd" * 100)
    assert os.stat(p).st_ino == st.inode

    appended = "".join(f"{_line(n + i)}\n" for i in range(100))
    _append(p, appended)

    read = []
    real_pread, real_read = os.pread, os.read

    def counting_pread(fd, k, off):
        data = real_pread(fd, k, off)
        read.append(len(data))
        return data

    def counting_read(fd, k):
        data = real_read(fd, k)
        read.append(len(data))
        return data

    monkeypatch.setattr(os, "pread", counting_pread)
    monkeypatch.setattr(os, "read", counting_read)
    lines, st2, ev = watcher.poll(p, st)
    monkeypatch.undo()

    assert ev is None and st2.skipped_total == 0
    assert lines == [_line(n + i) for i in range(100)]
    assert st2.lines_total == n + 100
    assert sum(read) <= len(appended) + 4 * 64  # appended bytes + head/tail checks


def test_state_json_round_trip(tmp_path, watcher):
    p = tmp_path / "index.txt"
    p.write_bytes(b"\x00\xffbinary head\nsecond\nthi")
    _, st, _ = watcher.poll(p, WatchState())
    text = json.dumps(st.to_dict())
    back = WatchState.from_dict(json.loads(text))
    assert back == st
    assert back.head_bytes == p.read_bytes()[:HEAD_BYTES]
    assert WatchState.from_dict(None) == WatchState()
    assert WatchState.from_dict({"offset": 3, "unknown": 1}) == WatchState(offset=3)
    # a persisted state carries on where it left off
    _append(p, "rd\n")
    lines, st2, ev = watcher.poll(p, back)
    assert lines == ["third"] and ev is None


# ---------------------------------------------------------------- split_in_order


@pytest.mark.parametrize("prob", [0.8, 0.5, 1.0, 0.3, 0.0, 0.7, 0.333333])
@pytest.mark.parametrize("train_first", [True, False])
def test_split_in_order_exact_over_many_rounds(prob, train_first):
    p = round(prob * 10**6)
    expected = (lambda n: -((-n * p) // 10**6)) if train_first else (lambda n: n * p // 10**6)
    sizes = [0, 1, 2, 3, 7, 1, 10, 13, 0, 5, 99, 4, 1, 1, 1, 250, 17]
    counter, train_total, eval_total, seen = 0, 0, 0, []
    for r, size in enumerate(sizes):
        batch = [f"s{len(seen) + i}" for i in range(size)]
        train, ev, counter = split_in_order(batch, prob, counter, train_first=train_first)
        # order preserved within each part, nothing lost or duplicated
        assert sorted(train + ev, key=lambda s: int(s[1:])) == batch
        assert train == [s for s in batch if s in set(train)]
        train_total += len(train)
        eval_total += len(ev)
        seen += batch
        assert counter == len(seen)
        assert train_total == expected(len(seen))
        assert eval_total == len(seen) - train_total
    # every prefix, not just round ends
    train_all, _, _ = split_in_order(seen, prob, 0, train_first=train_first)
    train_set = set(train_all)
    count = 0
    for n, s in enumerate(seen, 1):
        count += s in train_set
        assert count == expected(n)
        assert abs(count - n * prob) < 1


def test_split_patterns():
    lines = list("abcdefghij")
    assert split_in_order(lines, 0.8, 0)[:2] == (list("abcdfghi"), list("ej"))
    assert split_in_order(lines, 0.8, 0, train_first=False)[:2] == (list("bcdeghij"), list("af"))
    assert split_in_order(lines, 0.5, 0)[:2] == (list("acegi"), list("bdfhj"))
    assert split_in_order(lines, 1, 0) == (lines, [], 10)
    assert split_in_order(lines, 1.0, 12345) == (lines, [], 12355)
    assert split_in_order(lines, 0, 0) == ([], lines, 10)
    assert split_in_order([], 0.8, 7) == ([], [], 7)
    # the counter carries the pattern across rounds: 3 + 2 lines == 5 lines at once
    t1, e1, c = split_in_order(lines[:3], 0.8, 0)
    t2, e2, c = split_in_order(lines[3:5], 0.8, c)
    assert (t1 + t2, e1 + e2, c) == (list("abcd"), ["e"], 5)


def test_split_float_drift_is_rounded_away():
    n = 1000
    lines = [str(i) for i in range(n)]
    for prob in (0.1 + 0.2, 0.7000000000000001, 0.29999999999999999):
        p = round(prob * 10**6)
        train, _, _ = split_in_order(lines, prob, 0)
        assert len(train) == math.ceil(n * p / 10**6)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "x"])
def test_split_rejects_bad_prob(bad):
    with pytest.raises((ValueError, TypeError)):
        split_in_order(["a"], bad, 0)


def test_split_rejects_negative_counter():
    with pytest.raises(ValueError):
        split_in_order(["a"], 0.5, -1)


@pytest.mark.parametrize("prob", [0.8, 0.5, 1.0, 0.0, 0.333333, 0.1 + 0.2])
@pytest.mark.parametrize("train_first", [True, False])
def test_split_counts_are_what_the_split_gives_without_going_through_the_lines(prob, train_first):
    """The job's pending counts (checked every second, on pools of millions of samples) say
    how the next round will split, for every counter and size."""
    for counter in (0, 1, 4, 5, 17, 999_999):
        for n in (0, 1, 2, 5, 9, 31, 250):
            train, ev, _ = split_in_order(range(n), prob, counter, train_first=train_first)
            assert split_counts(n, prob, counter, train_first=train_first) == (len(train), len(ev))
    assert split_counts(10_000_000, 0.8, 3) == (8_000_000, 2_000_000)
    with pytest.raises(ValueError):
        split_counts(1, 1.5)


# ---------------------------------------------------------------- RoundFiles


def test_round_files_layout(tmp_path):
    rf = RoundFiles(tmp_path / "out")
    out = str(tmp_path / "out")
    assert rf.train_index(1) == os.path.join(out, "data", "train", "1", "data.txt")
    assert rf.eval_index(1) == os.path.join(out, "data", "eval", "1", "data.txt")
    assert rf.knowledge_base() == os.path.join(out, "kb")  # one KB per job, not one per round
    assert rf.eval_output(2) == os.path.join(out, "eval", "2")
    assert rf.deploy_output() == os.path.join(out, "deploy")
    assert rf.train_index("3") == os.path.join(out, "data", "train", "3", "data.txt")
    for bad in (-1, "../1", "1/..", "", None, True, 1.5, "\u0661"):
        with pytest.raises(ValueError):
            rf.train_index(bad)
    remote = RoundFiles("s3://bucket/job")
    assert remote.eval_index(4) == "s3://bucket/job/data/eval/4/data.txt"
    assert remote.deploy_output() == "s3://bucket/job/deploy"


def test_round_files_write_and_idempotence(tmp_path):
    rf = RoundFiles(str(tmp_path / "out"))
    tp, ep = rf.write(1, ["a 1", "b 2", "c 3"], ["d 4"])
    assert (tp, ep) == (rf.train_index(1), rf.eval_index(1))
    with open(tp, "rb") as f:
        assert f.read() == b"a 1\nb 2\nc 3\n"
    with open(ep, "rb") as f:
        assert f.read() == b"d 4\n"
    assert rf.write(1, ["a 1", "b 2", "c 3"], ["d 4"]) == (tp, ep)
    with open(tp, "rb") as f:
        assert f.read() == b"a 1\nb 2\nc 3\n"
    # no temporary files left behind
    assert os.listdir(os.path.dirname(tp)) == ["data.txt"]
    assert os.listdir(os.path.dirname(ep)) == ["data.txt"]
    # an empty part is an empty file; another round does not touch round 1
    tp2, ep2 = rf.write(2, ["e 5"], [])
    with open(ep2, "rb") as f:
        assert f.read() == b""
    with open(tp, "rb") as f:
        assert f.read() == b"a 1\nb 2\nc 3\n"
    with pytest.raises(ValueError):
        rf.write(3, ["bad\nline"], [])
    assert not os.path.exists(rf.train_index(3))


def test_watch_split_write_end_to_end(tmp_path, watcher):
    idx = tmp_path / "index.txt"
    rf = RoundFiles(tmp_path / "out")
    idx.write_text("".join(f"{_line(i)}\n" for i in range(7)))
    st, counter, r = WatchState(), 0, 0
    all_train, all_eval = [], []
    for batch in (7, 3, 10):
        if r:
            _append(idx, "".join(f"{_line(100 * r + i)}\n" for i in range(batch)))
        lines, st, ev = watcher.poll(idx, WatchState.from_dict(json.loads(json.dumps(st.to_dict()))))
        assert ev is None and len(lines) == batch
        train, ev_lines, counter = split_in_order(lines, 0.8, counter)
        r += 1
        rf.write(r, train, ev_lines)
        all_train += train
        all_eval += ev_lines
    assert len(all_train) == math.ceil(20 * 0.8) and len(all_eval) == 4
    with open(rf.train_index(3)) as f:
        assert f.read().splitlines() == all_train[-8:]


def test_index_watch_benchmark_smoke(tmp_path):
    from support.modules import load_benchmark

    bench = load_benchmark("bench_index_watch")
    res = bench.run_index_watch_bench(n_lines=5000, appended=10, repeats=3, workdir=str(tmp_path))
    assert res["n_lines"] == 5000 and res["repeats"] == 3
    assert set(res["poll"]) == {"median_ms", "p95_ms", "max_ms"}
    table = bench.format_table(res)
    assert "| target | ≤ 20 ms" in table and "every 60 s" in table


def test_a_huge_append_is_taken_in_bounded_pieces_one_per_poll(tmp_path, watcher):
    """Issue 19, finding 7: 8 million lines appended at once were read (and stored) in one go."""
    from sedna.control.rounds import MAX_POLL_BYTES

    p = tmp_path / "index.txt"
    line = "images/frame_000000.png labels/frame_000000.png\n"
    n = 3 * MAX_POLL_BYTES // len(line)
    p.write_text(line * n)
    st, seen, polls = WatchState(), 0, 0
    while True:
        lines, st, ev = watcher.poll(p, st)
        if not lines:
            break
        assert ev is None and len(lines) * len(line) <= MAX_POLL_BYTES  # one piece, never the whole append
        seen, polls = seen + len(lines), polls + 1
    assert seen == n == st.lines_total and polls >= 3 and st.offset == os.path.getsize(p)


def test_a_line_longer_than_a_poll_reads_is_skipped_and_counted(tmp_path, watcher):
    from sedna.control.rounds import MAX_POLL_BYTES

    p = tmp_path / "index.txt"
    p.write_text("a 1\n" + "x" * (MAX_POLL_BYTES + 10) + "\nb 2\n")
    lines, st, ev = watcher.poll(p, WatchState())
    assert lines == ["a 1"]
    lines, st, ev = watcher.poll(p, st)
    assert lines == [] and st.skipped_total == 1 and ev == "InvalidLines" and "over" in ev.message
    lines, st, ev = watcher.poll(p, st)
    assert lines == ["b 2"] and st.lines_total == 2 and st.offset == os.path.getsize(p)

