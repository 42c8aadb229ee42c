"""Segmentation metrics against hand-computed confusion matrices."""

import math
import warnings

import numpy as np
import pytest

from sedna.examples.robo.metrics import (Evaluator, class_pixel_accuracy, confusion_matrix,
                                         frequency_weighted_iou, mean_iou, per_class_iou,
                                         pixel_accuracy)

# Example A (3 classes). Pixels as (ground truth, prediction):
#   (0,0) (0,0) (0,1) (1,1) (1,2) (2,2) (2,2) (2,0) and one ignored (255, 1).
# Confusion matrix (rows = GT, cols = prediction):
#          p0 p1 p2 | GT
#   g0  [[  2, 1, 0],  3
#   g1   [  0, 1, 1],  2
#   g2   [  1, 0, 2]]  3
#   P:      3  2  3    total 8, trace 5
# pixel accuracy       = 5/8                                   = 0.625
# class pixel accuracy = (2/3 + 1/2 + 2/3) / 3 = (11/6) / 3    = 11/18
# IoU = TP / (GT + P - TP): 2/(3+3-2)=1/2, 1/(2+2-1)=1/3, 2/(3+3-2)=1/2
# mean IoU             = (1/2 + 1/3 + 1/2) / 3 = (4/3) / 3     = 4/9
# fwIoU                = 3/8*1/2 + 2/8*1/3 + 3/8*1/2 = 3/16 + 1/12 + 3/16 = 11/24
LABEL_A = np.array([[0, 0, 0], [1, 1, 2], [2, 2, 255]])
PRED_A = np.array([[0, 0, 1], [1, 2, 2], [2, 0, 1]])
CM_A = np.array([[2, 1, 0], [0, 1, 1], [1, 0, 2]])


def test_confusion_matrix_hand_computed():
    cm = confusion_matrix(PRED_A, LABEL_A, num_classes=3)
    assert cm.dtype == np.int64 and cm.shape == (3, 3)
    np.testing.assert_array_equal(cm, CM_A)


def test_metrics_hand_computed():
    assert pixel_accuracy(CM_A) == pytest.approx(5 / 8)
    assert class_pixel_accuracy(CM_A) == pytest.approx(11 / 18)
    np.testing.assert_allclose(per_class_iou(CM_A), [1 / 2, 1 / 3, 1 / 2])
    assert mean_iou(CM_A) == pytest.approx(4 / 9)
    assert frequency_weighted_iou(CM_A) == pytest.approx(11 / 24)


def test_evaluator_accumulates_batches():
    ev = Evaluator(num_classes=3)
    # the same pixels split into two "batches" give the same matrix
    ev.add(PRED_A[:1], LABEL_A[:1]).add(PRED_A[1:], LABEL_A[1:])
    np.testing.assert_array_equal(ev.confusion, CM_A)
    d = ev.to_dict()
    assert d["pixel_accuracy"] == pytest.approx(5 / 8)
    assert d["class_pixel_accuracy"] == pytest.approx(11 / 18)
    assert d["mIoU"] == pytest.approx(4 / 9)
    assert d["fwIoU"] == pytest.approx(11 / 24)
    np.testing.assert_allclose(d["per_class_iou"], [1 / 2, 1 / 3, 1 / 2])
    assert d["num_pixels"] == 8
    # twice the same data: same ratios, doubled counts
    ev.add(PRED_A, LABEL_A)
    np.testing.assert_array_equal(ev.confusion, 2 * CM_A)
    assert ev.mean_iou() == pytest.approx(4 / 9)
    ev.reset()
    assert ev.num_pixels == 0


# Example B (empty classes). GT is all class 0 (4 pixels); prediction 0,0,1,1.
#          p0 p1 p2
#   g0  [[  2, 2, 0],   GT = 4
#   g1   [  0, 0, 0],   GT = 0, predicted twice -> a false-positive class
#   g2   [  0, 0, 0]]   GT = 0, never predicted -> undefined, left out
# pixel accuracy       = 2/4 = 1/2
# class pixel accuracy = class 0 only (1 and 2 absent from GT) = 2/4 = 1/2
# IoU: class 0 = 2/(4+2-2) = 1/2, class 1 = 0/(0+2-0) = 0, class 2 = 0/0 = NaN
# mean IoU             = (1/2 + 0) / 2 = 1/4     (class 2 excluded, class 1 counts)
# fwIoU                = 4/4 * 1/2 = 1/2
def test_empty_classes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cm = confusion_matrix(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0]), num_classes=3)
        np.testing.assert_array_equal(cm, [[2, 2, 0], [0, 0, 0], [0, 0, 0]])
        iou = per_class_iou(cm)
        assert iou[0] == pytest.approx(0.5) and iou[1] == 0.0 and math.isnan(iou[2])
        assert pixel_accuracy(cm) == pytest.approx(0.5)
        assert class_pixel_accuracy(cm) == pytest.approx(0.5)
        assert mean_iou(cm) == pytest.approx(0.25)
        assert frequency_weighted_iou(cm) == pytest.approx(0.5)


def test_all_ignore_is_nan_safe():
    label = np.full((4, 5), 255)
    pred = np.zeros((4, 5), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning (mean of empty slice, 0/0)
        ev = Evaluator(num_classes=24).add(pred, label)
        assert ev.num_pixels == 0
        d = ev.to_dict()
        for key in ("mIoU", "pixel_accuracy", "class_pixel_accuracy", "fwIoU"):
            assert math.isnan(d[key]), key
        assert all(math.isnan(v) for v in d["per_class_iou"])
        empty = Evaluator(num_classes=3)  # nothing added at all
        assert math.isnan(empty.mean_iou()) and math.isnan(empty.pixel_accuracy())


def test_ignore_255_and_out_of_range_labels():
    # GT:   0   1   255  255  7(>=C, not a class: skipped too)
    # pred: 0   0   2    200  1   -- predictions on skipped pixels do not matter
    label = np.array([0, 1, 255, 255, 7], dtype=np.uint8)
    pred = np.array([0, 0, 2, 200, 1])
    cm = confusion_matrix(pred, label, num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [1, 0, 0], [0, 0, 0]])
    # custom ignore index: 255 becomes an out-of-range label (still skipped), 1 is ignored
    cm = confusion_matrix(np.array([0, 2, 1]), np.array([0, 1, 255]), num_classes=3, ignore_index=1)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_bad_inputs():
    with pytest.raises(ValueError):
        confusion_matrix(np.zeros(3), np.zeros(4), num_classes=3)
    with pytest.raises(ValueError):  # a prediction that is not a class on a labelled pixel
        confusion_matrix(np.array([5]), np.array([0]), num_classes=3)
    with pytest.raises(ValueError):
        Evaluator(num_classes=3).add_confusion(np.zeros((2, 2)))


def test_torch_tensors_accepted():
    torch = pytest.importorskip("torch")
    cm = confusion_matrix(torch.from_numpy(PRED_A), torch.from_numpy(LABEL_A), num_classes=3)
    np.testing.assert_array_equal(cm, CM_A)
