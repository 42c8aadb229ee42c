"""FileOps over real local files, fsspec's in-memory filesystem and a loopback HTTP server."""

import functools
import http.server
import io
import json
import os
import tarfile
import threading
import uuid

import pytest

from sedna.common.exceptions import DataFileNotFoundError
from sedna.common.file_ops import FileOps


def _no_temp_left(folder):
    return [n for n in os.listdir(folder) if ".tmp-" in n] == []


# ------------------------------------------------------------------ atomicity
def test_write_atomic_leaves_no_partial_file_when_writer_raises(tmp_path):
    target = tmp_path / "out.bin"

    def chunks():
        yield b"first half"
        raise RuntimeError("writer died mid-way")

    with pytest.raises(RuntimeError):
        FileOps.write_atomic(str(target), chunks())
    assert not target.exists()
    assert _no_temp_left(tmp_path)


def test_write_atomic_keeps_old_content_when_writer_raises(tmp_path):
    target = tmp_path / "out.txt"
    FileOps.write_atomic(str(target), "old")

    def chunks():
        yield "new "
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        FileOps.write_atomic(str(target), chunks())
    assert target.read_text() == "old"
    assert _no_temp_left(tmp_path)


def test_open_for_writing_is_atomic(tmp_path):
    target = tmp_path / "sub" / "f.txt"
    with pytest.raises(ValueError):
        with FileOps.open(str(target), "w") as f:
            f.write("partial")
            raise ValueError("stop")
    assert not target.exists()
    with FileOps.open(str(target), "w") as f:
        f.write("complete")
        assert not target.exists()  # only visible once closed
    assert target.read_text() == "complete"
    assert _no_temp_left(target.parent)


# --------------------------------------------------------------------- upload
def test_upload_keeps_its_source(tmp_path):
    src = tmp_path / "model.bin"
    src.write_bytes(b"weights")
    dst = tmp_path / "out" / "model.bin"
    assert FileOps.upload(str(src), str(dst)) == str(dst)
    assert src.read_bytes() == b"weights" and dst.read_bytes() == b"weights"


def test_upload_folder_keeps_source_and_clean_removes_it(tmp_path):
    src = tmp_path / "art"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    FileOps.upload(str(src), str(tmp_path / "copy"))
    assert (src / "sub" / "b.txt").exists()
    assert (tmp_path / "copy" / "sub" / "b.txt").read_text() == "b"
    FileOps.upload(str(src), str(tmp_path / "copy2"), clean=True)
    assert not src.exists()
    assert (tmp_path / "copy2" / "a.txt").read_text() == "a"


def test_upload_file_into_existing_folder(tmp_path):
    src = tmp_path / "m.bin"
    src.write_bytes(b"x")
    (tmp_path / "dir").mkdir()
    out = FileOps.upload(str(src), str(tmp_path / "dir"))
    assert out == os.path.join(str(tmp_path / "dir"), "m.bin")
    assert src.exists()


def test_upload_and_download_through_fsspec_memory(tmp_path):
    root = f"memory://fo-{uuid.uuid4().hex}"
    src = tmp_path / "tree"
    (src / "d").mkdir(parents=True)
    (src / "d" / "x.bin").write_bytes(b"xyz")
    (src / "top.json").write_text('{"a": 1}')
    FileOps.upload(str(src), FileOps.join_path(root, "tree"))
    assert src.exists()
    assert FileOps.exists(FileOps.join_path(root, "tree", "d", "x.bin"))
    assert FileOps.load(FileOps.join_path(root, "tree", "top.json")) == {"a": 1}
    local = FileOps.download(FileOps.join_path(root, "tree"), str(tmp_path / "back"))
    assert (tmp_path / "back" / "d" / "x.bin").read_bytes() == b"xyz"
    assert local == str(tmp_path / "back")
    FileOps.delete(FileOps.join_path(root, "tree"))
    assert not FileOps.exists(FileOps.join_path(root, "tree"))


# ------------------------------------------------------------- missing source
@pytest.mark.parametrize("call", [
    lambda p: FileOps.download(p),
    lambda p: FileOps.download(p, p + ".copy"),
    lambda p: FileOps.upload(p, p + ".copy"),
    lambda p: FileOps.load(p),
    lambda p: FileOps.read_bytes(p),
    lambda p: FileOps.open(p, "rb"),
])
def test_missing_source_names_it(tmp_path, call):
    missing = str(tmp_path / "nope.bin")
    with pytest.raises(DataFileNotFoundError, match="nope.bin"):
        call(missing)
    assert not os.path.exists(missing + ".copy")
    assert isinstance(DataFileNotFoundError("x"), FileNotFoundError)


def test_missing_remote_source(tmp_path):
    with pytest.raises(DataFileNotFoundError, match="absent"):
        FileOps.download(f"memory://fo-{uuid.uuid4().hex}/absent.bin", str(tmp_path / "d"))
    assert not (tmp_path / "d").exists()


# ----------------------------------------------------------------- dump/load
@pytest.mark.parametrize("obj", [object(), {1, 2}, 3.5, (1, 2), None, {"a": object()}])
def test_dump_refuses_non_json_objects(tmp_path, obj):
    target = tmp_path / "x.json"
    with pytest.raises(TypeError):
        FileOps.dump(obj, str(target))
    assert not target.exists()
    assert _no_temp_left(tmp_path)


def test_dump_kinds(tmp_path):
    FileOps.dump({"a": [1, 2]}, str(tmp_path / "d.json"))
    assert json.loads((tmp_path / "d.json").read_text()) == {"a": [1, 2]}
    assert FileOps.load(str(tmp_path / "d.json")) == {"a": [1, 2]}
    FileOps.dump([1, "x"], str(tmp_path / "l.json"))
    assert FileOps.load(str(tmp_path / "l.json")) == [1, "x"]
    FileOps.dump(b"\x00\x01raw", str(tmp_path / "b.bin"))
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01raw"
    FileOps.dump("héllo", str(tmp_path / "t.txt"))
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo"


def test_dump_converts_nested_numpy_values(tmp_path):
    np = pytest.importorskip("numpy")
    FileOps.dump({"m": np.float32(0.5), "v": np.arange(3)}, str(tmp_path / "n.json"))
    assert FileOps.load(str(tmp_path / "n.json")) == {"m": 0.5, "v": [0, 1, 2]}


def test_load_bad_json_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": ')
    with pytest.raises(ValueError, match="bad.json"):
        FileOps.load(str(bad))


# ------------------------------------------------------------------ join_path
def test_join_path_keeps_url_prefixes():
    assert FileOps.join_path("s3://bucket", "kb", "index.json") == "s3://bucket/kb/index.json"
    assert FileOps.join_path("s3://bucket/", "/kb/", "/index.json") == "s3://bucket/kb/index.json"
    assert FileOps.join_path("s3://bucket/a", "", None, "b") == "s3://bucket/a/b"
    assert FileOps.join_path("http://h:80/x", "y") == "http://h:80/x/y"
    assert FileOps.join_path("https://h/x/", "y/z") == "https://h/x/y/z"
    assert FileOps.join_path("s3://bucket") == "s3://bucket"
    assert FileOps.join_path("/a", "b", "c") == os.path.join("/a", "b", "c")
    assert FileOps.join_path("/a", "/b") == os.path.join("/a", "b")
    assert FileOps.join_path() == ""


def test_local_and_remote():
    assert FileOps.is_local("/x/y") and FileOps.is_local("rel/p") and FileOps.is_local("file:///x")
    for url in ("s3://b/k", "http://h/x", "https://h/x", "memory://m"):
        assert FileOps.is_remote(url) and not FileOps.is_local(url)


def test_s3_options_are_read_at_call_time(monkeypatch):
    monkeypatch.setenv("S3_ENDPOINT_URL", "minio:9000")
    monkeypatch.setenv("ACCESS_KEY_ID", "k1")
    monkeypatch.setenv("SECRET_ACCESS_KEY", "s1")
    opts = FileOps._storage_options("s3://b/x")
    assert opts == {"key": "k1", "secret": "s1",
                    "client_kwargs": {"endpoint_url": "https://minio:9000"}}
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    assert FileOps._storage_options("s3://b/x")["client_kwargs"]["endpoint_url"] == \
        "http://127.0.0.1:9000"
    assert FileOps._storage_options("/local/path") == {}


def test_make_dir_and_delete(tmp_path):
    d = tmp_path / "a" / "b"
    FileOps.make_dir(str(d))
    FileOps.make_dir(str(d))
    assert d.is_dir()
    (d / "f").write_text("x")
    FileOps.delete(str(tmp_path / "a"))
    assert not (tmp_path / "a").exists()
    FileOps.delete(str(tmp_path / "a"))  # missing is fine


# ---------------------------------------------------------------------- untar
def test_download_untar_extracts_safely(tmp_path):
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"weights"
        info = tarfile.TarInfo("model/w.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    out = FileOps.download(str(archive), str(tmp_path / "dl") + os.sep, untar=True)
    assert open(os.path.join(out, "model", "w.bin"), "rb").read() == b"weights"
    assert archive.exists()

    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(tarfile.TarError):
        FileOps.download(str(evil), str(tmp_path / "dl2") + os.sep, untar=True)
    assert not (tmp_path.parent / "escape.txt").exists()


# ----------------------------------------------------------------------- http
@pytest.fixture
def http_root(tmp_path):
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_download(http_root, tmp_path):
    served, base = http_root
    (served / "m.bin").write_bytes(b"\x01" * 5000)
    (served / "i.json").write_text('{"v": 3}')
    url = FileOps.join_path(base, "m.bin")
    assert FileOps.exists(url)
    assert not FileOps.exists(FileOps.join_path(base, "missing.bin"))
    local = FileOps.download(url, str(tmp_path / "got") + os.sep)
    assert local == os.path.join(str(tmp_path / "got"), "m.bin")
    assert open(local, "rb").read() == b"\x01" * 5000
    tmp_local = FileOps.download(url)
    try:
        assert open(tmp_local, "rb").read() == b"\x01" * 5000
    finally:
        FileOps.delete(os.path.dirname(tmp_local))
    assert FileOps.load(FileOps.join_path(base, "i.json")) == {"v": 3}
    with FileOps.open(FileOps.join_path(base, "i.json"), "r") as f:
        assert json.load(f) == {"v": 3}
    with pytest.raises(DataFileNotFoundError, match="missing.bin"):
        FileOps.download(FileOps.join_path(base, "missing.bin"), str(tmp_path / "x.bin"))
    assert not (tmp_path / "x.bin").exists()
    with pytest.raises(ValueError):
        FileOps.upload(local, url)
