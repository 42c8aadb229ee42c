"""Configuration read from the environment when asked, never at import.

``Context.get_parameters(name, default)`` looks up ``name``, then
``name.upper()``; an empty string counts as unset.

``BaseConfig`` exposes the worker environment of the control-plane contract as
class-level properties (``BaseConfig.train_dataset_url`` works on the class, as
in the tutorial), each read from ``os.environ`` at the moment of access.
"""

import json
import os

__all__ = ("Context", "BaseConfig", "user_config_dir")


def user_config_dir():
    """Where the CLI records its contexts (``$XDG_CONFIG_HOME/sedna``, default ``~/.config/sedna``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "sedna")


def _env(name, default=None):
    for key in (name, name.upper()):
        val = os.environ.get(key)
        if val is not None and val != "":
            return val
    return default


class Context:
    """Access to job parameters (environment variables)."""

    @staticmethod
    def get_parameters(param, default=None):
        return _env(param, default)

    @staticmethod
    def get_bool(param, default=False):
        val = _env(param)
        if val is None:
            return default
        return str(val).strip().lower() in ("1", "true", "yes", "on")

    @staticmethod
    def get_float(param, default=None):
        return _parsed(param, default, float, "expected a number")

    @staticmethod
    def get_int(param, default=None):
        return _parsed(param, default, int, "expected an integer")

    @staticmethod
    def get_json(param, default=None):
        return _parsed(param, default, json.loads, "invalid JSON", explain=True)


def _parsed(param, default, parse, expected, explain=False):
    """``param``'s value through ``parse``; a bad value names the variable (``explain``: and
    the parser's reason, where the value alone does not show what is wrong)."""
    val = _env(param)
    if val is None:
        return default
    try:
        return parse(val)
    except ValueError as e:
        detail = f" ({e})" if explain else ""
        raise ValueError(f"environment variable {param}={val!r}: {expected}{detail}") from None


class _EnvAttr:
    """A class-level property reading one environment variable on access."""

    def __init__(self, env, default=None, convert=None):
        self.env, self.default, self.convert = env, default, convert

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is not None and self.name in obj.__dict__:
            return obj.__dict__[self.name]
        val = _env(self.env)
        if val is None:
            return self.default
        return self.convert(val) if self.convert else val

    def __set__(self, obj, value):  # instance-level override (tests, from_json)
        obj.__dict__[self.name] = value


def _bool(v):
    return str(v).strip().lower() in ("1", "true", "yes", "on")


class BaseConfig:
    """The worker environment (CONTRACTS §2), read when accessed."""

    # identity
    namespace = _EnvAttr("NAMESPACE", "default")
    job_name = _EnvAttr("JOB_NAME", "sedna")
    worker_name = _EnvAttr("WORKER_NAME", "local-worker")
    service_name = _EnvAttr("SERVICE_NAME")
    # control plane
    lc_server = _EnvAttr("LC_SERVER", "http://127.0.0.1:9100")
    lc_token = _EnvAttr("LC_TOKEN")
    ll_kb_server = _EnvAttr("KB_SERVER")
    # data and models
    data_path_prefix = _EnvAttr("DATA_PATH_PREFIX", "/home/data")
    original_dataset_url = _EnvAttr("ORIGINAL_DATASET_URL")
    train_dataset_url = _EnvAttr("TRAIN_DATASET_URL")
    test_dataset_url = _EnvAttr("TEST_DATASET_URL")
    output_url = _EnvAttr("OUTPUT_URL")
    model_url = _EnvAttr("MODEL_URL")
    model_urls = _EnvAttr("MODEL_URLS")
    cloud_kb_index = _EnvAttr("CLOUD_KB_INDEX")
    has_completed_initial_training = _EnvAttr("HAS_COMPLETED_INITIAL_TRAINING", False, _bool)
    pretrained_model_url = _EnvAttr("PRETRAINED_MODEL_URL")
    # runtime
    backend_type = _EnvAttr("BACKEND_TYPE", "UNKNOWN")
    device_category = _EnvAttr("DEVICE_CATEGORY", "CPU")
    min_train_sample = _EnvAttr("MIN_TRAIN_SAMPLE", 10, int)
    model_poll_period = _EnvAttr("MODEL_POLL_PERIOD_SECONDS", 60.0, float)
    log_level = _EnvAttr("LOG_LEVEL", "INFO")
    # storage
    s3_endpoint_url = _EnvAttr("S3_ENDPOINT_URL")
    access_key_id = _EnvAttr("ACCESS_KEY_ID")
    secret_access_key = _EnvAttr("SECRET_ACCESS_KEY")
    # lifelong learning
    unseen_save_url = _EnvAttr("unseen_save_url")
    inference_result_dir = _EnvAttr("INFERENCE_RESULT_DIR")

    def __init__(self, **overrides):
        for k, v in overrides.items():
            setattr(self, k, v)

    def from_json(self, data):
        """Override fields from a dict or a JSON file path."""
        if isinstance(data, str):
            with open(data, encoding="utf-8") as f:
                data = json.load(f)
        for k, v in dict(data).items():
            setattr(self, k, v)
        return self

    def to_dict(self):
        out = {}
        for name in dir(type(self)):
            if isinstance(type(self).__dict__.get(name), _EnvAttr):
                out[name] = getattr(self, name)
        return out
