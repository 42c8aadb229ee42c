"""The distance detector's statistics as the knowledge base stores them: a
detector rebuilt from the index scores a sample exactly as the fitted one did
when it was calibrated, the index holds a quarter of the matrices' float64
bytes, and an index written with full float64 matrices still loads."""

import json

import numpy as np

from sedna.algorithms._util import pack_array
from sedna.algorithms.unseen_task_detection.unseen_sample_recognition import SampleRecognitionByDistance
from sedna.datasources import BaseDataSource


def _src(x):
    s = BaseDataSource(data_type="train")
    s.x = x
    return s


def _fitted():
    rng = np.random.default_rng(3)
    parts = [_src(rng.normal(size=(300, 24)) @ rng.normal(size=(24, 24)) + k) for k in (0, 5)]
    rec = SampleRecognitionByDistance().fit(parts)
    rec.calibrate(_src(np.concatenate([p.x[:60] for p in parts])))
    return rec, rng.normal(size=(200, 24)) * 3


def test_a_detector_rebuilt_from_the_index_scores_as_calibrated():
    rec, probe = _fitted()
    doc = {"unseen_sample_recognition": {"calibration": json.loads(json.dumps(rec.state()))}}
    back = SampleRecognitionByDistance(doc)
    assert np.array_equal(back.scores(_src(probe)), rec.scores(_src(probe)))
    assert back.threshold == rec.threshold
    stored = len(json.dumps(rec.state()))
    assert stored < 2 * 24 * 24 * 8 * 4 / 3 / 2  # under half of the two float64 matrices in base64


def test_an_index_with_full_float64_matrices_still_loads():
    rec, probe = _fitted()
    old = dict(rec.state(), stats=[{"mean": pack_array(m), "icov": pack_array(ic), "diag": dg}
                                   for m, ic, dg in rec._stats])
    back = SampleRecognitionByDistance({"unseen_sample_recognition": {"calibration": old}})
    assert np.allclose(back.scores(_src(probe)), rec.scores(_src(probe)))
