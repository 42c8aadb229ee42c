"""The operator benchmark (benchmarks/bench_operator.py) end to end at toy size, with kmock's
API emulator standing in for the API server and the real operator process."""


import pytest

from support.modules import load_benchmark

pytest.importorskip("kopf")
pytest.importorskip("kmock")

def _load():
    return load_benchmark("bench_operator")


def test_bench_operator_at_toy_size_on_the_api_emulator():
    bench = _load()
    res = bench.run(n_jobs=3, cpu_window=1.0, sample=2)
    assert res["operator_alive"]
    assert len(res["lat"]) == 2 and all(0 < t < 30 for t in res["lat"])
    # one round: at least the train, eval and deploy Pods (and their token Secrets) were created
    assert res["round_by"].get("POST pods", 0) >= 3 and res["round_by"].get("POST secrets", 0) >= 3
    text = bench.table(res)
    assert "| (a) operator CPU" in text and "Targets missed:" in text
