"""The control plane's HTTP paths, shared by the server, the CLI and the workers."""

from sedna.common.constants import GROUP_VERSION

API = "/apis/" + GROUP_VERSION
WORKERS = "/api/v1"
HEALTHZ = "/healthz"


def resource_path(plural, namespace=None, name=None, status=False):
    """``/apis/sedna.io/v1alpha1[/namespaces/{ns}]/{plural}[/{name}[/status]]``."""
    out = f"{API}/namespaces/{namespace}/{plural}" if namespace else f"{API}/{plural}"
    if name:
        out += f"/{name}" + ("/status" if status else "")
    return out


def report_path(worker):
    """Where a worker posts its report (CONTRACTS §2): ``/sedna/workers/{name}/info``."""
    return f"/sedna/workers/{worker}/info"
