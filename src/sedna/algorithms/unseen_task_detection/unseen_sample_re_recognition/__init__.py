from .base_unseen_sample_re_recognition import BaseSampleReRecognition, BaseSampleReRegonition
from .unseen_sample_re_recognition import SampleReRegonitionAllSeen, SampleReRegonitionDefault

__all__ = ("BaseSampleReRegonition", "BaseSampleReRecognition", "SampleReRegonitionDefault",
           "SampleReRegonitionAllSeen")
