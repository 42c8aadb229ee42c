"""`s3://` end to end against moto's S3 server (an S3 emulator, started as a
real process on loopback: no real object store can be reached from here).
FileOps, a knowledge base on S3, and a lifelong job whose OUTPUT_URL is S3."""

import os

import numpy as np
import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

from support.ctlplane import moto_s3  # noqa: E402


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    import s3fs

    with moto_s3(tmp_path_factory.mktemp("moto")) as url:
        fs = s3fs.S3FileSystem(key="test", secret="test", client_kwargs={"endpoint_url": url})
        fs.mkdir("sedna-test")
        yield fs


def test_file_ops_round_trip_on_s3(s3, tmp_path):
    from sedna.common.file_ops import FileOps

    src = tmp_path / "model.bin"
    src.write_bytes(b"\x01\x02weights")
    dst = FileOps.upload(str(src), "s3://sedna-test/ops/model.bin")
    assert src.exists()  # upload never deletes its source
    assert FileOps.exists(dst)
    back = FileOps.download(dst, str(tmp_path / "back.bin"))
    assert open(back, "rb").read() == b"\x01\x02weights"
    FileOps.dump({"a": 1}, "s3://sedna-test/ops/doc.json")
    assert FileOps.load("s3://sedna-test/ops/doc.json") == {"a": 1}
    FileOps.delete(dst)
    assert not FileOps.exists(dst)


def test_a_lifelong_job_writes_and_serves_its_knowledge_base_on_s3(s3, tmp_path, monkeypatch, digits):
    from sedna.core.lifelong_learning import LifelongLearning
    from sedna.examples.digits import make_estimator
    from sedna.knowledge import KnowledgeBase

    out = "s3://sedna-test/job/kb"
    ll = LifelongLearning(make_estimator(), task_allocation={"method": "TaskAllocationByClassifier"},
                          output_url=out)
    res = ll.train(digits.source(["plain", "inverted"]))
    assert res["index_url"].startswith("s3://sedna-test/job/kb/versions/0001/")
    ll.update(digits.source("rotated"))
    kb = KnowledgeBase(out)
    assert kb.versions() == [1, 2] and kb.current().number == 2
    assert s3.exists("sedna-test/job/kb/versions/0002/index.json")
    # an inference worker elsewhere serves the S3 index
    monkeypatch.setenv("MODEL_URLS", kb.index_url)
    worker = LifelongLearning(make_estimator())
    data = digits.source("rotated", "test", with_attr=False, data_type="test")
    res, unseen, _ = worker.inference(data)
    pred = np.array([r for r, u in zip(res, unseen) if not u])
    assert unseen.mean() < 0.2 and (pred == data.y[~unseen]).mean() > 0.9
    worker.close()
    kb.rollback(1)
    assert KnowledgeBase(out).current().number == 1


def test_a_knowledge_base_made_again_at_the_same_url_is_not_served_from_a_stale_cache(s3, digits):
    """A re-run job writing to the same S3 folder: the cached artifacts of the first run must not be reused."""
    from sedna.core.lifelong_learning import LifelongLearning
    from sedna.examples.digits import make_estimator
    from sedna.knowledge import KnowledgeBase

    out = "s3://sedna-test/rerun/kb"
    for domains in (["plain", "inverted"], ["rotated", "plain"]):
        if s3.exists("sedna-test/rerun"):
            s3.rm("sedna-test/rerun", recursive=True)
        LifelongLearning(make_estimator(), output_url=out).train(digits.source(domains))
        v = KnowledgeBase(out).current()
        for g in v.task_groups:
            folder, name = g["model"]["url"].rsplit("/", 1)
            with open(os.path.join(v.local_path(folder), name), "rb") as f:
                cached = f.read()
            assert cached == s3.cat(v.resolve(g["model"]["url"]).replace("s3://", "")), (domains, g["entry"])
