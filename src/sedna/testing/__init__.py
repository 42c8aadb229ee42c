"""Test helpers for code that uses sedna, installed with the ``[testing]`` extra
(``pip install sedna[testing]``), as ``kopf.testing`` is for operators:

* :mod:`sedna.testing.k8s_emulator`: an emulated Kubernetes API server (kmock) that
  runs the operator and the node agent without a cluster.

Nothing in the product imports this package.
"""
