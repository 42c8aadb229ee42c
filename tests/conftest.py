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


@pytest.fixture(scope="session")
def digits():
    pytest.importorskip("sklearn")
    from sedna.examples.digits import DigitsDomains

    return DigitsDomains()
