"""A tiny segmentation estimator for the tutorial's worker scripts.

It has the tutorial's Estimator shape (train/predict/evaluate/load/save,
tutorial §2.1.2) but learns a nearest-mean-colour pixel classifier from
``.npy`` frames, so the scripts run in a second.
"""

import json
import os

import numpy as np

from sedna.common.config import BaseConfig, Context
from sedna.common.file_ops import FileOps
from sedna.common.log import LOGGER


def read_frame(paths):
    rgb = np.load(paths[0])
    return rgb.reshape(-1, rgb.shape[-1]).astype(np.float64)


class Estimator:
    def __init__(self, **kwargs):
        self.num_class = int(kwargs.get("num_class", 24))
        self.epochs = int(kwargs.get("epochs", 1))
        self.means = None
        self.train_model_url = None
        self.label_save_dir = Context.get_parameters(
            "INFERENCE_RESULT_DIR", os.path.join(BaseConfig.data_path_prefix, "inference_results"))

    def train(self, train_data, valid_data=None, **kwargs):
        sums = np.zeros((self.num_class, 3))
        counts = np.zeros(self.num_class)
        for x, y in zip(train_data.x, train_data.y):
            pix = read_frame(x)
            lab = np.load(y).reshape(-1)
            ok = lab != 255
            np.add.at(sums, lab[ok], pix[ok])
            np.add.at(counts, lab[ok], 1)
        self.means = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], np.inf)
        LOGGER.info("Total epoches: {}".format(self.epochs))
        return {"mIoU": 0 if not valid_data else self.evaluate(valid_data)}

    def predict(self, data, **kwargs):
        out = []
        for x in data:
            rgb = np.load(x[0])
            pix = read_frame(x)
            d = ((pix[:, None, :] - self.means[None, :, :]) ** 2).sum(-1)
            out.append(d.argmin(1).reshape(rgb.shape[:2]))
        return out

    def evaluate(self, data, **kwargs):
        preds = self.predict(data.x)
        right = total = 0
        for p, y in zip(preds, data.y):
            lab = np.load(y)
            ok = lab != 255
            right += int((p[ok] == lab[ok]).sum())
            total += int(ok.sum())
        return {"accuracy": right / max(total, 1)}

    def load(self, model_url, **kwargs):
        if not model_url:
            raise Exception("model url does not exist.")
        with open(model_url) as f:
            self.means = np.array(json.load(f)["means"], dtype=np.float64)

    def save(self, model_path=None):
        if not model_path:
            LOGGER.warning("Not specify model path.")
            return self.train_model_url
        means = np.where(np.isfinite(self.means), self.means, 1e9)
        FileOps.dump({"means": means.tolist()}, model_path)
        self.train_model_url = model_path
        return model_path
