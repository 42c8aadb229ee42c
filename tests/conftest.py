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
