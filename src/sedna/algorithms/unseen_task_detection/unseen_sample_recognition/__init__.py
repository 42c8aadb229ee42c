from .base_unseen_sample_recognition import BaseSampleRecognition
from .by_model import SampleRecognitionByModel
from .unseen_sample_recognition import (SampleRecognitionAllSeen, SampleRecognitionByConfidence,
                                        SampleRecognitionByDistance, SampleRecognitionByTaskAttr,
                                        SampleRecognitionDefault)

# The original system's spelling ("Regonition"), kept importable as aliases of
# the same classes; the registry knows these names too (algorithms.registry).
BaseSampleRegonition = BaseSampleRecognition
SampleRegonitionDefault = SampleRecognitionDefault
SampleRegonitionAllSeen = SampleRecognitionAllSeen
SampleRegonitionByTaskAttr = SampleRecognitionByTaskAttr
SampleRegonitionByConfidence = SampleRecognitionByConfidence
SampleRegonitionByDistance = SampleRecognitionByDistance
SampleRegonitionByModel = SampleRecognitionByModel

__all__ = ("BaseSampleRecognition", "SampleRecognitionDefault", "SampleRecognitionAllSeen",
           "SampleRecognitionByTaskAttr", "SampleRecognitionByConfidence", "SampleRecognitionByDistance",
           "SampleRecognitionByModel",
           "BaseSampleRegonition", "SampleRegonitionDefault", "SampleRegonitionAllSeen", "SampleRegonitionByTaskAttr",
           "SampleRegonitionByConfidence", "SampleRegonitionByDistance", "SampleRegonitionByModel")
