"""Shared by the control-plane test workers: digits samples stored as .npy
files, listed in a txt index as `<domain>/<file>.npy <label>`."""

import os
import time

import numpy as np

from sedna.common.config import Context
from sedna.datasources import BaseDataSource, TxtDataParse


def load(index_url, data_type="train"):
    """Index lines -> numeric samples; the domain (first folder) is the task attribute."""
    base = os.path.dirname(Context.get_parameters("ORIGINAL_DATASET_URL") or index_url)
    parsed = TxtDataParse(data_type=data_type)
    parsed.parse(index_url)
    src = BaseDataSource(data_type=data_type)
    src.x = np.stack([np.load(os.path.join(base, p)) for p in parsed.x]) if len(parsed.x) else np.zeros((0, 64))
    src.y = parsed.y.astype(int) if data_type != "test" else np.array([])
    src.meta_attr = np.array([p.split("/")[0] for p in parsed.x])
    return src


def stall():
    """Tests slow a worker down (to kill the controller meanwhile) with WORKER_SLEEP."""
    secs = float(os.environ.get("WORKER_SLEEP", "0") or 0)
    flag = os.environ.get("WORKER_SLEEP_FLAG")
    if flag:
        open(flag, "a").close()
    if secs:
        time.sleep(secs)
