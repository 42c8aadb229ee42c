"""Semantic-segmentation metrics, as the segmentation community defines them.

Everything derives from one confusion matrix ``M`` (C x C, int64) whose rows
are the ground-truth class and whose columns are the predicted class:
``M[i, j]`` = number of pixels of class ``i`` predicted as ``j``. Pixels whose
label is ``ignore_index`` (255) -- or otherwise outside ``[0, C)`` -- are not
counted.

With ``TP_i = M[i, i]``, ``GT_i = sum_j M[i, j]`` (row sum) and
``P_i = sum_j M[j, i]`` (column sum):

* pixel accuracy            = sum_i TP_i / sum_ij M[i, j]
* class pixel accuracy      = mean over classes with ``GT_i > 0`` of TP_i / GT_i
* IoU_i                     = TP_i / (GT_i + P_i - TP_i)   (= TP / (TP + FP + FN))
* mean IoU                  = mean of IoU_i over classes with ``GT_i + P_i > 0``
* frequency-weighted IoU    = sum_i (GT_i / sum GT) * IoU_i  (classes with GT_i > 0)

Choice for empty classes (documented, as the definitions differ between code
bases): a class that appears neither in the ground truth nor in the
prediction has an *undefined* IoU (NaN) and is left out of the mean; a class
that is predicted but absent from the ground truth has IoU 0 and *does* count
(it is a false positive that should be punished). A class absent from the
ground truth is left out of the class pixel accuracy.

Every function is NaN-safe: with nothing counted (e.g. an all-ignore input),
the scalar metrics are NaN, and no RuntimeWarning is emitted.
"""

import numpy as np

from sedna.examples.robo.classes import IGNORE, NUM_CLASSES

__all__ = ("confusion_matrix", "Evaluator", "pixel_accuracy", "class_pixel_accuracy",
           "per_class_iou", "mean_iou", "frequency_weighted_iou")


def _as_numpy(a):
    if hasattr(a, "detach"):  # torch tensor, without importing torch
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def confusion_matrix(pred, label, num_classes=NUM_CLASSES, ignore_index=IGNORE):
    """Confusion matrix (rows = ground truth, cols = prediction), int64 (C, C).

    ``pred`` and ``label`` are integer arrays (numpy or torch) of the same
    shape, any number of dimensions. Label pixels equal to ``ignore_index`` or
    outside ``[0, num_classes)`` are skipped; a prediction outside
    ``[0, num_classes)`` on a counted pixel is an error.
    """
    pred = _as_numpy(pred)
    label = _as_numpy(label)
    if pred.shape != label.shape:
        raise ValueError(f"pred shape {pred.shape} != label shape {label.shape}")
    c = int(num_classes)
    label = label.reshape(-1).astype(np.int64, copy=False)
    pred = pred.reshape(-1).astype(np.int64, copy=False)
    keep = (label != ignore_index) & (label >= 0) & (label < c)
    label, pred = label[keep], pred[keep]
    if pred.size and (pred.min() < 0 or pred.max() >= c):
        raise ValueError(f"prediction outside [0, {c}) on a labelled pixel")
    return np.bincount(label * c + pred, minlength=c * c).reshape(c, c).astype(np.int64)


def _ratio(num, den):
    """num / den elementwise, NaN where den == 0, without warnings."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _nanmean(values):
    values = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


def pixel_accuracy(cm):
    cm = np.asarray(cm)
    return float(_ratio(np.trace(cm), cm.sum()))


def class_pixel_accuracy(cm):
    cm = np.asarray(cm)
    return _nanmean(_ratio(np.diag(cm), cm.sum(axis=1)))


def per_class_iou(cm):
    """IoU per class (float64 array, NaN for classes neither in GT nor predicted)."""
    cm = np.asarray(cm)
    tp = np.diag(cm)
    return _ratio(tp, cm.sum(axis=1) + cm.sum(axis=0) - tp)


def mean_iou(cm):
    return _nanmean(per_class_iou(cm))


def frequency_weighted_iou(cm):
    cm = np.asarray(cm)
    gt = cm.sum(axis=1).astype(np.float64)
    total = gt.sum()
    if total <= 0:
        return float("nan")
    iou = per_class_iou(cm)
    present = gt > 0  # IoU is defined wherever GT_i > 0
    return float((gt[present] / total * iou[present]).sum())


class Evaluator:
    """Accumulates a confusion matrix over batches; metrics on demand."""

    def __init__(self, num_classes=NUM_CLASSES, ignore_index=IGNORE):
        self.num_classes = int(num_classes)
        self.ignore_index = ignore_index
        self.confusion = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def add(self, pred, label):
        """Add one prediction/label pair (or a batch of them, same shape)."""
        self.confusion += confusion_matrix(pred, label, self.num_classes, self.ignore_index)
        return self

    def add_confusion(self, cm):
        """Add an already computed confusion matrix (e.g. from another Evaluator)."""
        cm = np.asarray(cm, dtype=np.int64)
        if cm.shape != self.confusion.shape:
            raise ValueError(f"confusion matrix shape {cm.shape} != {self.confusion.shape}")
        self.confusion += cm
        return self

    def reset(self):
        self.confusion[...] = 0
        return self

    @property
    def num_pixels(self):
        return int(self.confusion.sum())

    def pixel_accuracy(self):
        return pixel_accuracy(self.confusion)

    def class_pixel_accuracy(self):
        return class_pixel_accuracy(self.confusion)

    def per_class_iou(self):
        return per_class_iou(self.confusion)

    def mean_iou(self):
        return mean_iou(self.confusion)

    def frequency_weighted_iou(self):
        return frequency_weighted_iou(self.confusion)

    def to_dict(self):
        """Scalar metrics (floats, NaN when undefined) plus per-class IoU as a list."""
        return {
            "mIoU": self.mean_iou(),
            "pixel_accuracy": self.pixel_accuracy(),
            "class_pixel_accuracy": self.class_pixel_accuracy(),
            "fwIoU": self.frequency_weighted_iou(),
            "per_class_iou": [float(v) for v in self.per_class_iou()],
            "num_pixels": self.num_pixels,
        }
