"""The Kubernetes runtime: an operator (kopf) that drives the same pure
:func:`sedna.control.reconcile.reconcile` as the local runtime against a real
API server, and a node agent that watches datasets on its node and receives
worker reports. Everything the runtime knows lives in the API objects
(status subresources, Pods, Secrets): no local database.
"""
