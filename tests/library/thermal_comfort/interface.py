"""The estimator and feature callback of a thermal-comfort job written against
the original system's earlier API, in the shape of its example: an estimator
class taking no arguments, with train/predict/predict_proba/evaluate/save/load,
whose ``save`` returns nothing (as an XGBoost model's ``save_model`` does); a
DataFrame callback; the data set's configuration."""

import os

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import precision_score

os.environ["BACKEND_TYPE"] = "SKLEARN"

DATACONF = {
    "ATTRIBUTES": ["Season"],
    "LABEL": "Thermal preference",
}


def feature_process(df):
    df.drop(["City"], axis=1, inplace=True)
    for feature in df.columns:
        if feature in ["Season", "Thermal preference"]:
            continue
        df[feature] = df[feature].apply(lambda x: float(x) if x else 0.0)
    return df


class Estimator:
    def __init__(self):
        self.model = HistGradientBoostingClassifier(max_iter=60, max_depth=3, random_state=27)

    def train(self, train_data, valid_data=None, save_best=True, metric_name="mlogloss", early_stopping_rounds=100):
        # the original's early-stopping rounds become scikit-learn's patience
        self.model.set_params(n_iter_no_change=int(early_stopping_rounds), early_stopping="auto")
        self.model.fit(train_data.x, train_data.y)
        history = {"train_precision": float(precision_score(train_data.y, self.model.predict(train_data.x),
                                                            average="micro"))}
        if valid_data:
            history["valid_precision"] = self.evaluate(valid_data)
        return history

    def predict(self, datas, **kwargs):
        return self.model.predict(datas)

    def predict_proba(self, datas, **kwargs):
        return self.model.predict_proba(datas)

    def evaluate(self, test_data, **kwargs):
        y_pred = self.predict(test_data.x)
        return precision_score(test_data.y, y_pred, average="micro")

    def load(self, model_url):
        import skops.io as sio

        untrusted = sio.get_untrusted_types(file=model_url)
        self.model = sio.load(model_url, trusted=[t for t in untrusted if t.startswith(("sklearn.", "numpy."))])
        return self

    def save(self, model_path=None):
        import skops.io as sio

        sio.dump(self.model, model_path)
