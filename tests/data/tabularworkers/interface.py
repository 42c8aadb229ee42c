"""The estimator and feature callback of a thermal-comfort-style tabular job,
written in the style of the original's example (``interface.py``): an
estimator class with train/predict/evaluate/save/load, a callback that takes
and returns the whole pandas DataFrame, and the data set's configuration."""

import os

import numpy as np
from sklearn.tree import DecisionTreeClassifier

os.environ["BACKEND_TYPE"] = "SKLEARN"

DATACONF = {
    "ATTRIBUTES": ["Season"],
    "LABEL": "Thermal preference",
}


def feature_process(df):
    """Drop the City column (the original drops it too) and make the features numbers."""
    if "City" in df.columns:
        df = df.drop(columns=["City"])
    for feature in df.columns:
        if feature in DATACONF["ATTRIBUTES"] or feature == DATACONF["LABEL"]:
            continue
        df[feature] = df[feature].apply(lambda x: float(x) if x == x else 0.0)
    return df


class Estimator:
    def __init__(self, **kwargs):
        self.model = DecisionTreeClassifier(max_depth=5, random_state=0)

    def train(self, train_data, valid_data=None, **kwargs):
        self.model.fit(train_data.x, train_data.y)
        return {"train_accuracy": float(self.model.score(train_data.x, train_data.y))}

    def predict(self, datas, **kwargs):
        return self.model.predict(datas)

    def evaluate(self, test_data, **kwargs):
        pred = self.predict(test_data.x)
        return {"accuracy": float(np.mean(pred == np.asarray(test_data.y)))}

    def save(self, model_path):
        import skops.io as sio

        sio.dump(self.model, model_path + ".skops")
        return model_path + ".skops"

    def load(self, model_url):
        import skops.io as sio

        untrusted = sio.get_untrusted_types(file=model_url)
        self.model = sio.load(model_url, trusted=[t for t in untrusted if t.startswith(("sklearn.", "numpy."))])
