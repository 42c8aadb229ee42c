import pytest

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
