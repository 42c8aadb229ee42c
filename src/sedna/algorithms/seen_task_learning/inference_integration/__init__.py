from .base_inference_integrate import BaseInferenceIntegrate
from .inference_integrate import DefaultInferenceIntegrate

__all__ = ("BaseInferenceIntegrate", "DefaultInferenceIntegrate")
