"""Hostile files and input (issue 8): object keys that climb out of a download
folder, index lines that made the parser's memory quadratic, YAML alias
bombs / deep nesting / non-UTF-8 manifests, a stale server.json that named
someone else's process, and a multi-document apply that stopped half-way."""

import json
import os
import resource
import signal
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from support.ctlplane import free_port, moto_s3
from support.paths import MANIFESTS

MB = 1 << 20


def sedna(*args, input=None, limit_as=None, timeout=120):
    """``python -m sedna.cli ARGS`` as a user runs it; ``limit_as`` caps its address space."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "SEDNA_"))}

    def cap():
        if limit_as:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    return subprocess.run([sys.executable, "-m", "sedna.cli", *args], capture_output=True, text=True,
                          input=input, timeout=timeout, env=env, preexec_fn=cap)


def one_line_error(p, *must):
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr[-2000:]
    for text in must:
        assert text in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------ S3 folder downloads
@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """moto's S3 server as a real process on loopback; yields a boto3 client."""
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    import boto3

    with moto_s3(tmp_path_factory.mktemp("moto")) as url:
        client = boto3.client("s3", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test",
                              region_name="us-east-1")
        client.create_bucket(Bucket="sedna-sec")
        yield client


@pytest.mark.parametrize("bad, why", [("../../../escaped.txt", "leaves the download folder"),
                                      ("/abs/escaped.txt", "is absolute"),
                                      ("nul\0escaped.txt", "NUL")])
def test_s3_folder_download_refuses_a_key_outside_the_target_and_writes_nothing(s3, tmp_path, monkeypatch,
                                                                                bad, why):
    """A bucket holding `models/m/../../../x` next to a real model file: the
    download names the key, and neither that file nor the good one is written."""
    import tempfile

    from sedna.common.file_ops import FileOps, UnsafeKeyError

    prefix = f"models/{abs(hash(bad))}"
    s3.put_object(Bucket="sedna-sec", Key=f"{prefix}/weights.bin", Body=b"good")
    s3.put_object(Bucket="sedna-sec", Key=f"{prefix}/{bad}", Body=b"owned")
    staging_parent = tmp_path / "tmp" / "a"  # FileOps stages in tempdir: an escape lands in tmp_path
    staging_parent.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(staging_parent))
    target = tmp_path / "dl"
    with pytest.raises(UnsafeKeyError) as err:
        FileOps.download(f"s3://sedna-sec/{prefix}", str(target))
    assert repr(f"sedna-sec/{prefix}/{bad}") in str(err.value) and why in str(err.value)
    written = [os.path.join(d, f) for d, _, files in os.walk(tmp_path) for f in files]
    assert written == [], written
    assert not target.exists()


def test_s3_folder_download_keeps_nested_keys_inside(s3, tmp_path):
    from sedna.common.file_ops import FileOps

    for key, body in (("kb/m/a.bin", b"a"), ("kb/m/sub/b.bin", b"b"), ("kb/m/sub/../c.bin", b"c")):
        s3.put_object(Bucket="sedna-sec", Key=key, Body=body)
    out = FileOps.download("s3://sedna-sec/kb/m", str(tmp_path / "m"))
    got = {os.path.relpath(os.path.join(d, f), out): open(os.path.join(d, f), "rb").read()
           for d, _, files in os.walk(out) for f in files}
    assert got == {"a.bin": b"a", os.path.join("sub", "b.bin"): b"b", "c.bin": b"c"}


# ------------------------------------------------------------- TxtDataParse memory
def _peak(fn):
    """(result, peak bytes traced) of ``fn()``; numpy reports its buffers to tracemalloc."""
    tracemalloc.start()
    try:
        return fn(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_txt_a_one_megabyte_line_parses_in_bounded_memory(tmp_path):
    """Was a MemoryError: the copy step built a width x width mask."""
    from sedna.datasources import TxtDataParse

    long = "p/" + "L" * 1_000_000
    f = tmp_path / "index.txt"
    f.write_text(f"a.png 1\n{long} label\nb.png 2\n")
    ds, peak = _peak(lambda: TxtDataParse("train").parse(str(f)))
    assert ds.x.tolist() == ["a.png", long, "b.png"] and ds.y.tolist() == ["1", "label", "2"]
    assert peak < 200 * MB, peak / MB


@pytest.mark.parametrize("use_raw", [False, True])
def test_txt_one_long_line_among_short_ones_stays_linear(tmp_path, use_raw):
    """40 kB of index with one 20 000-character line took about 1 GB."""
    from sedna.datasources import TxtDataParse

    lines = [f"img/{i:05d}.png lab/{i:05d}.png" for i in range(1000)]
    long = "x/" + "L" * 20_000
    lines.insert(500, f"{long} lab/long.png")
    f = tmp_path / "index.txt"
    f.write_text("\n".join(lines) + "\n")
    ds, peak = _peak(lambda: TxtDataParse("train").parse(str(f), use_raw=use_raw))
    assert peak < 200 * MB, peak / MB
    if use_raw:
        assert [list(r) for r in ds.x[499:502]] == [ln.split() for ln in lines[499:502]]
    else:
        assert ds.x[500] == long and ds.y[500] == "lab/long.png"
        assert ds.x[3] == "img/00003.png" and ds.y[1000] == "lab/00999.png" and len(ds) == 1001


def test_txt_a_long_line_through_a_callback_stays_linear(tmp_path):
    from sedna.datasources import TxtDataParse

    long = "L" * 100_000
    lines = [f"a{i} b{i}" for i in range(2000)] + [f"{long} tail"]
    f = tmp_path / "index.txt"
    f.write_text("\n".join(lines))
    ds, peak = _peak(lambda: TxtDataParse("train", func=lambda s: tuple(s.split())).parse(str(f)))
    assert peak < 200 * MB, peak / MB
    assert ds.x[-1] == long and ds.y[-1] == "tail" and ds.x[0] == "a0"


@pytest.mark.parametrize("chunk", [64, 4096, 1 << 20])
def test_txt_fields_of_every_width_match_str_split(tmp_path, monkeypatch, chunk):
    """Fields of 1 to 5000 characters, mixed, give what `line.split()` gives."""
    from sedna.datasources import TxtDataParse, _txtscan

    monkeypatch.setattr(_txtscan, "CHUNK", chunk)
    rng = np.random.default_rng(0)
    widths = [1, 2, 3, 7, 8, 9, 64, 255, 256, 257, 300, 1000, 5000]
    lines = [" ".join("f" * int(rng.choice(widths)) + str(i) for _ in range(int(rng.integers(1, 4))))
             for i in range(400)]
    f = tmp_path / "index.txt"
    f.write_text("\n".join(lines))
    ds = TxtDataParse("train").parse(str(f))
    assert ds.x.tolist() == [ln.split()[0] for ln in lines]
    assert ds.y.tolist() == [ln.split()[1] if len(ln.split()) > 1 else "0" for ln in lines]
    raw = TxtDataParse("train").parse(str(f), use_raw=True)
    assert [list(r) for r in raw.x] == [ln.split() for ln in lines]


# ------------------------------------------------------- manifests the CLI refuses
# `apply` parses and validates before it connects: no server is needed to be refused.
NO_SERVER = ("--server", "http://127.0.0.1:9")  # nothing listens on port 9 (discard)


def _job_with_affinity(extra):
    text = open(MANIFESTS / "tutorial-job.yaml").read()
    anchor = "        nodeName: sedna-mini-control-plane\n"
    assert anchor in text
    return text.replace(anchor, anchor + "        affinity:\n" + extra, 1)


def test_apply_refuses_a_yaml_alias_bomb_in_one_line(tmp_path):
    """Nine levels of nine aliases under a pod field: 387 million nodes once expanded."""
    bomb = "          l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, 9):
        bomb += f"          l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n"
    f = tmp_path / "bomb.yaml"
    f.write_text(_job_with_affinity(bomb))
    p = sedna("apply", "-f", str(f), "--state-dir", str(tmp_path / "st"), *NO_SERVER, limit_as=1536 * MB)
    line = one_line_error(p, "bomb.yaml:", "aliases")
    assert "bomb.yaml:20:" in line  # where the budget ran out (l3's aliases)


def test_apply_still_takes_a_few_honest_aliases(tmp_path):
    env = "          shared: &env [{name: A, value: '1'}]\n          again: *env\n"
    f = tmp_path / "job.yaml"
    f.write_text(_job_with_affinity(env))
    p = sedna("apply", "-f", str(f), "--state-dir", str(tmp_path / "st"), *NO_SERVER)
    one_line_error(p, "no sedna control plane at")  # got past the input checks


@pytest.mark.parametrize("nest", ["[" * 5000 + "]" * 5000, "".join(f"\n{'  ' * i}k:" for i in range(150)) + " v"])
def test_apply_refuses_deep_nesting_in_one_line(tmp_path, nest):
    f = tmp_path / "deep.yaml"
    f.write_text("apiVersion: sedna.io/v1alpha1\nkind: Dataset\nmetadata: {name: d}\nspec: " + nest + "\n")
    one_line_error(sedna("apply", "-f", str(f), "--state-dir", str(tmp_path / "st"), *NO_SERVER),
                   "deep.yaml:", "nested deeper than 100")


def test_apply_refuses_bytes_that_are_not_utf8_in_one_line(tmp_path):
    f = tmp_path / "latin1.yaml"
    f.write_bytes("apiVersion: sedna.io/v1alpha1\nkind: Dataset\nmetadata: {name: café}\n".encode("latin-1"))
    one_line_error(sedna("apply", "-f", str(f), "--state-dir", str(tmp_path / "st"), *NO_SERVER),
                   "latin1.yaml:3:", "not UTF-8")
    p = subprocess.run([sys.executable, "-m", "sedna.cli", "apply", "-f", "-", "--state-dir",
                        str(tmp_path / "st"), *NO_SERVER], input=b"kind: Dataset\n\xff\n", capture_output=True,
                       timeout=60)
    assert p.returncode == 2 and b"<stdin>:2: not UTF-8" in p.stderr and b"Traceback" not in p.stderr


# ----------------------------------------------------------- sedna down, stale pid
@pytest.mark.parametrize("started", [None, 12345])
def test_down_leaves_alone_a_process_that_is_not_our_server(tmp_path, started):
    """server.json outlived a kill -9 and its pid now belongs to someone else."""
    state = tmp_path / "st"
    state.mkdir()
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        info = {"url": f"http://127.0.0.1:{free_port()}", "pid": stranger.pid, "host": "127.0.0.1", "port": 1}
        if started is not None:
            info["started"] = started
        (state / "server.json").write_text(json.dumps(info))
        p = sedna("down", "--state-dir", str(state), timeout=60)
        assert p.returncode == 0, p.stderr
        assert "no server running" in p.stdout and "stale server.json removed" in p.stdout
        assert stranger.poll() is None  # still running: never signalled
        assert not (state / "server.json").exists()
    finally:
        stranger.send_signal(signal.SIGKILL)
        stranger.wait(timeout=10)


def test_down_after_the_server_was_killed_says_no_server_running(tmp_path):
    from support.ctlplane import ControlPlane

    cp = ControlPlane(str(tmp_path)).start()
    cp.kill9()
    p = cp.cli("down")
    assert p.returncode == 0 and "no server running" in p.stdout and "stale server.json removed" in p.stdout


# ------------------------------------------------------ apply is all or nothing
def _dataset(name, index, **meta):
    return {"apiVersion": "sedna.io/v1alpha1", "kind": "Dataset", "metadata": {"name": name, **meta},
            "spec": {"url": index, "format": "txt", "nodeName": "localhost"}}


def test_multi_document_apply_is_all_or_nothing(tmp_path):
    """The second document is refused by the server (a stale resourceVersion):
    the first, valid on its own, must not be stored either."""
    import yaml

    from support.ctlplane import ControlPlane

    index = tmp_path / "data.txt"
    index.write_text("a.png 0\n")
    cp = ControlPlane(str(tmp_path)).start()
    try:
        first = tmp_path / "first.yaml"
        first.write_text(yaml.safe_dump(_dataset("old", str(index))))
        cp.cli("apply", "-f", str(first), check=True)
        both = tmp_path / "both.yaml"
        both.write_text(yaml.safe_dump_all([_dataset("fresh", str(index)),
                                            _dataset("old", str(index), resourceVersion="999")]))
        p = cp.cli("apply", "-f", str(both))
        line = one_line_error(p, "both.yaml (document 2)", "resourceVersion", "nothing applied")
        assert "fresh" not in p.stdout, line
        names = [o["metadata"]["name"] for o in json.loads(cp.cli("get", "ds", "-o", "json", check=True).stdout)
                 ["items"]]
        assert names == ["old"]
        both.write_text(yaml.safe_dump_all([_dataset("fresh", str(index)), _dataset("second", str(index))]))
        p = cp.cli("apply", "-f", str(both), check=True)
        assert p.stdout.splitlines() == ["dataset.sedna.io/fresh created", "dataset.sedna.io/second created"]
        assert "warning" not in p.stderr
    finally:
        cp.stop()


def test_applying_an_object_over_the_apis_body_limit_says_so_in_one_line(tmp_path):
    """Issue 19, finding 12: a 10 MB manifest was answered "no sedna control plane ... connection
    reset" while the server was up (it refuses the upload mid-way)."""
    import yaml

    from support.ctlplane import ControlPlane

    index = tmp_path / "data.txt"
    index.write_text("a.png 0\n")
    cp = ControlPlane(str(tmp_path)).start()
    try:
        big = _dataset("big", str(index))
        big["metadata"]["annotations"] = {"note": "x" * (10 << 20)}
        path = tmp_path / "big.yaml"
        path.write_text(yaml.safe_dump(big))
        p = cp.cli("apply", "-f", str(path))
        assert p.returncode != 0 and "no sedna control plane" not in p.stderr, p.stderr
        assert "bytes" in p.stderr and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
        assert cp.healthy()
    finally:
        cp.stop()
