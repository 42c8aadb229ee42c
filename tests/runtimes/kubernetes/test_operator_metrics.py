"""``sedna operator --metrics-port``: the jobs it reconciles in Prometheus' text format,
for holders of the metrics token only. The real operator process against kmock's API
emulator (no real API server here), scraped over real HTTP on loopback."""

import subprocess
import sys
import urllib.error
import urllib.request

import pytest

pytest.importorskip("kopf")
pytest.importorskip("kmock")

from support.ctlplane import free_port  # noqa: E402
from support.waiting import wait_for  # noqa: E402
from test_operator_emulated import JOB, NS, OperatorProcess, apply_tutorial  # noqa: E402

TOKEN = "s3cr3t-metrics-token"


def scrape(port, token=TOKEN):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


@pytest.fixture
def metered_operator(api_emulator, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    op = OperatorProcess(api_emulator.url, tmp_path / "operator.log",
                         ["--metrics-port", str(port), "--metrics-address", "127.0.0.1",
                          "--metrics-token-file", str(token_file)]).start()
    yield op, port
    op.stop()


def test_the_operator_serves_the_jobs_metrics_to_holders_of_the_token_on_the_api_emulator(
        kube, metered_operator, tmp_path):
    op, port = metered_operator
    apply_tutorial(kube, tmp_path)

    def job_state():
        code, text = scrape(port)
        return text if code == 200 and f'sedna_job_state{{job="{JOB}",namespace="{NS}"' in text else None

    text = wait_for(job_state, what="the job in the operator's /metrics")
    assert 'sedna_dataset_samples{dataset="' in text and "} 130.0" in text  # the Dataset's count, from the cache
    assert "sedna_reconcile_duration_seconds_count" in text and "sedna_reconcile_failures_total 0.0" in text
    assert "process_cpu_seconds_total" in text
    # no token, a wrong one, or another scheme: 401, and nothing about the jobs
    for token in (None, "guess", TOKEN + "x", ""):
        code, body = scrape(port, token)
        assert code == 401 and JOB not in body, token
    code, _ = scrape(port, TOKEN)
    assert code == 200 and op.proc.poll() is None


def test_a_metrics_port_without_a_token_is_refused_in_one_line(tmp_path):
    p = subprocess.run([sys.executable, "-m", "sedna.cli", "operator", "--server", "http://127.0.0.1:9",
                        "--metrics-port", "9999"], capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin"})
    assert p.returncode != 0
    assert "--metrics-port needs a token" in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.write_text("\n")
    p = subprocess.run([sys.executable, "-m", "sedna.cli", "operator", "--server", "http://127.0.0.1:9",
                        "--metrics-port", "9999", "--metrics-token-file", str(empty)],
                       capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert p.returncode != 0 and "metrics token file is empty" in p.stderr and "Traceback" not in p.stderr
