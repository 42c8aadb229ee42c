from .base_unseen_sample_recognition import BaseSampleRecognition, BaseSampleRegonition
from .by_model import SampleRegonitionByModel
from .unseen_sample_recognition import (SampleRegonitionAllSeen, SampleRegonitionByConfidence, SampleRegonitionByDistance,
                                        SampleRegonitionByTaskAttr, SampleRegonitionDefault)

__all__ = ("BaseSampleRegonition", "BaseSampleRecognition", "SampleRegonitionDefault", "SampleRegonitionAllSeen",
           "SampleRegonitionByTaskAttr", "SampleRegonitionByConfidence", "SampleRegonitionByDistance",
           "SampleRegonitionByModel")
