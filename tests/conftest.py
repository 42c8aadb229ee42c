"""Fixtures of every test; the helpers they use live in ``tests/support/``."""

import pytest

from support.ctlplane import ControlPlane
from support.waiting import wait_for as poll

# Environment variables of the worker contract that would change library behaviour.
_CONTRACT_ENV = ("OUTPUT_URL", "MODEL_URLS", "MODEL_URL", "CLOUD_KB_INDEX", "HAS_COMPLETED_INITIAL_TRAINING",
                 "TRAIN_DATASET_URL", "TEST_DATASET_URL", "ORIGINAL_DATASET_URL", "unseen_save_url",
                 "UNSEEN_SAVE_URL", "operator", "OPERATOR", "model_threshold", "MODEL_THRESHOLD",
                 "MIN_TRAIN_SAMPLE", "MODEL_POLL_PERIOD_SECONDS", "LC_SERVER", "KB_SERVER")


@pytest.fixture(autouse=True)
def clean_contract_env(monkeypatch):
    for k in _CONTRACT_ENV:
        monkeypatch.delenv(k, raising=False)
    yield


def pytest_configure(config):
    """Fixtures of module or session scope start `sedna up` before any function
    fixture runs: the whole session gets its own ``XDG_CONFIG_HOME`` too."""
    import os
    import tempfile

    config._sedna_xdg = os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="sedna-test-xdg-")


#: Modules that run a job's rounds through a real control plane, longest first (a minute or more
#: down to half a minute on 2 cores). They run first, so that with several workers
#: (``-n auto --dist loadscope --no-loadscope-reorder``) the quick modules fill in at the end and
#: the workers finish together. Order only: a module missing here still runs.
SLOW_MODULES = (
    "dashboard/test_dashboard_pages.py", "runtimes/local/test_control_plane.py", "dashboard/test_robot_view.py",
    "cli/test_demo_context.py", "robo/test_robo_demo.py", "runtimes/local/test_control_faults.py",
    "library/test_s3_moto_server.py", "runtimes/local/test_job_kb.py", "control/test_worker_phases.py",
    "library/test_original_thermal_comfort.py", "server/test_metrics.py", "runtimes/local/test_tabular_job.py",
    "cli/test_cli_contexts.py", "runtimes/kubernetes/test_operator_emulated.py", "robo/test_robo_eval_rounds.py",
    "cli/test_example_tabular_job.py", "cli/test_cli_control.py", "dashboard/test_dashboard_failure.py",
)


def pytest_collection_modifyitems(session, config, items):
    """The modules of :data:`SLOW_MODULES` first, in its order; the others as collected."""
    rank = {m: i for i, m in enumerate(SLOW_MODULES)}

    def key(item):
        path = item.nodeid.split("::", 1)[0].removeprefix("tests/")
        return rank.get(path, len(rank))

    items.sort(key=key)  # stable: the order inside a module, and of the other modules, is kept


def pytest_unconfigure(config):
    import shutil

    folder = getattr(config, "_sedna_xdg", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def user_config(tmp_path_factory, monkeypatch):
    """``$XDG_CONFIG_HOME`` in a fresh temporary folder for every test, so
    `sedna up` records its context there and never in the real ``~/.config``;
    ``SEDNA_SERVER``/``SEDNA_TOKEN`` of the shell running the tests are dropped."""
    home = tmp_path_factory.mktemp("xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for k in ("SEDNA_SERVER", "SEDNA_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    return home


@pytest.fixture(scope="session")
def digits():
    pytest.importorskip("sklearn")
    from sedna.examples.digits import DigitsDomains

    return DigitsDomains()


# --------------------------------------------------------------- shared helpers
# The helpers live in tests/support/ (``from support.waiting import wait_for``);
# the same ones as fixtures.
@pytest.fixture
def wait_for():
    """``wait_for(cond, timeout=60, interval=0.1, what=None)``: poll until ``cond()`` is truthy
    (support.waiting.wait_for)."""
    return poll


@pytest.fixture
def sedna(user_config):
    """The CLI runner: ``sedna(*args, cwd=None, env=None, input=None, timeout=60)`` runs
    ``python -m sedna.cli`` in a subprocess (no ``LC_``/``SEDNA_`` variables of the
    caller, the test's ``XDG_CONFIG_HOME``) and returns the CompletedProcess."""
    import os
    import subprocess
    import sys

    def run(*args, cwd=None, env=None, input=None, timeout=60):
        base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "SEDNA_"))}
        base.update(env or {})
        return subprocess.run([sys.executable, "-m", "sedna.cli", *map(str, args)], capture_output=True,
                              text=input is None or isinstance(input, str), timeout=timeout, cwd=cwd, env=base,
                              input=input)

    return run


@pytest.fixture
def control_plane(tmp_path, user_config):
    """A real ``sedna up`` (support.ctlplane.ControlPlane) on a free loopback port,
    stopped after the test; its ``cli(...)`` runs commands against it."""
    cp = ControlPlane(str(tmp_path)).start()
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture
def api_emulator():
    """An emulated Kubernetes API server (kmock), standing in for a cluster."""
    pytest.importorskip("kmock")
    from sedna.testing.k8s_emulator import EmulatedApiServer

    with EmulatedApiServer() as srv:
        yield srv


@pytest.fixture
def kube(api_emulator):
    """A blocking client of :func:`api_emulator`."""
    from sedna.testing.k8s_emulator import SyncClient

    return SyncClient(api_emulator.url)
