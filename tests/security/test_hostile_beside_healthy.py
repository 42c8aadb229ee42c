"""A hostile job and a healthy one on the same real `sedna up` (issue 19, what it must show):
while one worker writes a FIFO as its index, a sparse gigabyte as its unseen list, two million
index lines, a 60,000-task report and a flood of 2.4 MB reports (``support/hostile.py``), the
healthy job finishes two rounds, every probe of ``/healthz``, the API, both dashboard pages and
``/metrics`` is answered, and the server stays within 300 MiB of its idle memory. The latencies
are a benchmark's business: ``benchmarks/bench_hardening.py f``."""

import pytest

from support import hostile

pytest.importorskip("sklearn")

BOUND_MIB = 300


def test_a_hostile_worker_neither_stops_a_healthy_job_nor_the_server(tmp_path):
    got = hostile.run(tmp_path)

    assert [r["phase"] for r in got["rounds"]] == ["Succeeded", "Succeeded"]
    assert got["hostile"]["60000 tasks"] == 400          # refused: more tasks than a report may name
    flood = got["hostile"]["flood"]
    assert 429 in flood and flood.index(429) <= 8         # the worker's budget ends the flood early
    answers = got["prober"].answers
    names = {name for name, _, _ in answers}
    assert len(names) == 5 and len(answers) >= 5 * 20     # each asked, again and again
    failed = [(name, status) for name, _, status in answers if status != 200]
    assert not failed, failed[:10]
    assert max(got["prober"].rss) - got["idle_mib"] <= BOUND_MIB
