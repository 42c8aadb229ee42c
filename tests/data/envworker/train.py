"""A train worker that records the credential it was given, tries it where it
must not work, then reports for itself (tests/security/test_worker_identity.py)."""

import json
import os
import urllib.error
import urllib.request

from sedna.worker.report import report_task_info

out = os.environ["OUTPUT_URL"]
os.makedirs(out, exist_ok=True)
token = os.environ.get("LC_TOKEN", "")
req = urllib.request.Request(os.environ["LC_SERVER"] + "/apis/sedna.io/v1alpha1/datasets",
                             headers={"Authorization": f"Bearer {token}"})
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        list_status = r.status
except urllib.error.HTTPError as e:
    list_status = e.code
with open(os.path.join(out, "seen.json"), "w") as f:
    json.dump({"token": token, "list_status": list_status}, f)
ok = report_task_info("train", "completed", [{"format": "index", "url": os.path.join(out, "index.json")}])
with open(os.path.join(out, "reported.json"), "w") as f:
    json.dump({"ok": bool(ok)}, f)
