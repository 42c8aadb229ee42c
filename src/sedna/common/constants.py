"""Facts every layer shares, in one place: the API group and version, the
kinds and their plural names, the control plane's default port and URL."""

GROUP = "sedna.io"
VERSION = "v1alpha1"
GROUP_VERSION = f"{GROUP}/{VERSION}"

JOB = "LifelongLearningJob"
DATASET = "Dataset"
JOBS = "lifelonglearningjobs"  # plural names, as in the API's paths
DATASETS = "datasets"

DEFAULT_PORT = 9100
DEFAULT_SERVER = f"http://127.0.0.1:{DEFAULT_PORT}"
MAX_BODY_BYTES = 4 * 1024 * 1024   # a manifest or a report the API takes; bigger bodies get 413
