"""The Kubernetes runtime: an operator (kopf) that drives the same pure
:func:`sedna.control.reconcile.reconcile` as the local runtime against a real
API server, and a node agent that watches datasets on its node and receives
worker reports. Everything the runtime knows lives in the API objects
(status subresources, Pods, Secrets): no local database.
"""

import logging
import os

__all__ = ("add_api_flags", "add_metrics_flags", "setup_logging")


def add_api_flags(p):
    """The flags that say which API server to talk to (``sedna operator|agent`` and
    the modules' own ``python -m`` entry points). Imports nothing heavy, so the CLI
    can add them without kopf installed."""
    p.add_argument("--kubeconfig", metavar="PATH", default=None,
                   help="kubeconfig file (default: in-cluster service account, else $KUBECONFIG, ~/.kube/config)")
    p.add_argument("--server", metavar="URL", default=None,
                   help="Kubernetes API server URL (e.g. an emulator in tests); overrides the kubeconfig's")


def add_metrics_flags(p):
    """``sedna operator``'s ``/metrics`` flags (off unless ``--metrics-port`` is given)."""
    p.add_argument("--metrics-port", metavar="PORT", type=int, default=None,
                   help="serve Prometheus metrics on this port at /metrics (default: off); scrapes must send "
                        "'Authorization: Bearer TOKEN' with the token of $SEDNA_METRICS_TOKEN or --metrics-token-file")
    p.add_argument("--metrics-address", metavar="ADDR", default="0.0.0.0",
                   help="address the metrics port listens on (default 0.0.0.0)")
    p.add_argument("--metrics-token-file", metavar="PATH", default=None,
                   help="file whose first line is the metrics token (default: $SEDNA_METRICS_TOKEN)")


def setup_logging():
    """Log lines with time, logger and level, at ``$LOG_LEVEL`` (default INFO)."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
