"""Where the control plane runs: ``local`` (the embedded default) and, later, ``kubernetes``."""
