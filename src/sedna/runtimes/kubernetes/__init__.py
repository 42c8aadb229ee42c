"""The Kubernetes runtime: an operator (kopf) that drives the same pure
:func:`sedna.control.reconcile.reconcile` as the local runtime against a real
API server, and a node agent that watches datasets on its node and receives
worker reports. Everything the runtime knows lives in the API objects
(status subresources, Pods, Secrets): no local database.
"""

import logging
import os

__all__ = ("add_api_flags", "setup_logging")


def add_api_flags(p):
    """The flags that say which API server to talk to (``sedna operator|agent`` and
    the modules' own ``python -m`` entry points). Imports nothing heavy, so the CLI
    can add them without kopf installed."""
    p.add_argument("--kubeconfig", metavar="PATH", default=None,
                   help="kubeconfig file (default: in-cluster service account, else $KUBECONFIG, ~/.kube/config)")
    p.add_argument("--server", metavar="URL", default=None,
                   help="Kubernetes API server URL (e.g. an emulator in tests); overrides the kubeconfig's")


def setup_logging():
    """Log lines with time, logger and level, at ``$LOG_LEVEL`` (default INFO)."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
