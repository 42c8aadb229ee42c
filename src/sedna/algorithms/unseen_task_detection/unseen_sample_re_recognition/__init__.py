from .base_unseen_sample_re_recognition import BaseSampleReRecognition
from .unseen_sample_re_recognition import SampleReRecognitionAllSeen, SampleReRecognitionDefault

# The original system's spelling ("Regonition"), kept importable as aliases.
BaseSampleReRegonition = BaseSampleReRecognition
SampleReRegonitionDefault = SampleReRecognitionDefault
SampleReRegonitionAllSeen = SampleReRecognitionAllSeen

__all__ = ("BaseSampleReRecognition", "SampleReRecognitionDefault", "SampleReRecognitionAllSeen",
           "BaseSampleReRegonition", "SampleReRegonitionDefault", "SampleReRegonitionAllSeen")
