from .base_unseen_sample_recognition import BaseSampleRecognition, BaseSampleRegonition
from .unseen_sample_recognition import (SampleRegonitionAllSeen, SampleRegonitionByConfidence, SampleRegonitionByDistance,
                                        SampleRegonitionByTaskAttr, SampleRegonitionDefault)

__all__ = ("BaseSampleRegonition", "BaseSampleRecognition", "SampleRegonitionDefault", "SampleRegonitionAllSeen",
           "SampleRegonitionByTaskAttr", "SampleRegonitionByConfidence", "SampleRegonitionByDistance")
