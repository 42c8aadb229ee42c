"""``sedna apply|get|describe|logs|delete``: the resource commands, as kubectl
users expect them, and the registration of every control-plane command
(``up``/``down`` are in :mod:`.server`). They talk to the server that
:func:`sedna.cli.context.resolve` finds, over HTTP with its token."""

import json
import sys
import time
import urllib.parse

from sedna.cli import UserError
from sedna.cli.client import Client
from sedna.cli.views import HEADERS, age, job_workers_text, plural_of, table, to_yaml, worker_row
from sedna.common.api_paths import API
from sedna.common.constants import JOB


# ---------------------------------------------------------------------- commands
def cmd_apply(args):
    from sedna.cli.apply import cmd_apply as apply_all  # all-or-nothing apply, with its file reading

    return apply_all(args)


def _list(client, path):
    """Every item of a paginated list (following ``metadata.continue``)."""
    items, cont = [], ""
    while True:
        sep = "&" if "?" in path else "?"
        page = client.call("GET", path + (f"{sep}continue={urllib.parse.quote(cont)}" if cont else ""))
        items += page["items"]
        cont = (page.get("metadata") or {}).get("continue") or ""
        if not cont:
            return items


def _fetch(client, plural, ns, name=None, all_ns=False):
    if plural == "workers":
        items = _list(client, "/api/v1/workers" if all_ns else f"/api/v1/namespaces/{ns}/workers")
        if name:
            items = [w for w in items if w["name"] == name]
            if not items:
                raise UserError(f"worker {name!r} not found in namespace {ns}")
        return items
    if name:
        return [client.call("GET", f"{API}/namespaces/{ns}/{plural}/{name}")]
    return _list(client, f"{API}/{plural}" if all_ns else f"{API}/namespaces/{ns}/{plural}")


def cmd_get(args):
    plural = plural_of(args.type)
    client = Client(args.state_dir, args.server, args.context)
    items = _fetch(client, plural, args.namespace, args.name, args.all_namespaces)
    if args.output in ("json", "yaml"):
        payload = items[0] if args.name else {"items": items}
        print(json.dumps(payload, indent=2) if args.output == "json" else to_yaml(payload), end="" if args.output == "yaml" else "\n")
        return 0
    narrow, wide, rowf = HEADERS[plural]
    if not items:
        print(f"No resources found in {args.namespace} namespace.")
        return 0
    headers = wide if args.output == "wide" else narrow
    rows = [rowf(o, args.output == "wide") for o in items]
    if args.all_namespaces:
        headers = ["NAMESPACE"] + headers
        rows = [[(o.get("metadata") or {}).get("namespace", o.get("namespace", ""))] + r for o, r in zip(items, rows)]
    print(table(rows, headers))
    return 0


def cmd_describe(args):
    plural = plural_of(args.type)
    client = Client(args.state_dir, args.server, args.context)
    items = _fetch(client, plural, args.namespace, args.name)
    for o in items:
        if plural == "workers":
            print(to_yaml(o))
            continue
        meta, st = o["metadata"], o.get("status") or {}
        print(f"Name:         {meta['name']}\nNamespace:    {meta['namespace']}\nKind:         {o['kind']}\n"
              f"Created:      {meta.get('creationTimestamp')} ({age(meta.get('creationTimestamp'))} ago)\n"
              f"UID:          {meta.get('uid')}\nGeneration:   {meta.get('generation')}")
        print("Spec:\n" + _indent(to_yaml(o.get("spec") or {}), 2))
        status = {k: v for k, v in st.items() if k != "conditions"}
        if status:
            print("Status:\n" + _indent(to_yaml(status), 2))
        conds = st.get("conditions") or []
        if conds:
            print("Conditions:")
            print(_indent(table([[c.get("round", ""), c.get("stage", ""), c.get("type", ""), c.get("reason", ""),
                                  age(c.get("lastTransitionTime")), (c.get("message") or "")[:80]] for c in conds],
                                ["ROUND", "STAGE", "TYPE", "REASON", "AGE", "MESSAGE"]), 2))
        if o["kind"] == JOB:
            ws = [w for w in _fetch(client, "workers", meta["namespace"]) if w["job"] == meta["name"]]
            if ws:
                print("Workers:")
                print(_indent(table([worker_row(w, False) for w in ws], HEADERS["workers"][0]), 2))
        print()
    return 0


def _indent(text, n):
    pad = " " * n
    return "\n".join(pad + line for line in text.rstrip("\n").splitlines())


def cmd_logs(args):
    client = Client(args.state_dir, args.server, args.context)
    path = f"/api/v1/namespaces/{args.namespace}/workers/{args.worker}/log"
    workers = _fetch(client, "workers", args.namespace)
    if not any(w["name"] == args.worker for w in workers):
        text = job_workers_text(args.worker, workers)  # `sedna logs <job>`: its workers, and what to type
        if text is None:
            raise UserError(f"worker {args.worker!r} not found in namespace {args.namespace}")
        print(text)
        return 0
    offset = 0
    while True:
        data, headers = client.call("GET", f"{path}?offset={offset}", raw=True)
        if data:
            sys.stdout.write(data.decode("utf-8", "replace"))
            sys.stdout.flush()
        offset = int(headers.get("X-Offset") or headers.get("x-offset") or offset + len(data))
        size = headers.get("X-Size") or headers.get("x-size")
        if data and size is not None and offset < int(size):
            continue  # the server sends a long log in chunks
        if not args.follow:
            return 0
        w = _fetch(client, "workers", args.namespace, args.worker)[0]
        if w["phase"] not in ("Running", "Pending") and not data:
            return 0
        time.sleep(0.5)


def cmd_delete(args):
    client = Client(args.state_dir, args.server, args.context)
    targets = []
    if args.filename:
        from sedna.control.resources import KINDS, validate  # lazy: keeps `sedna` start-up light

        from sedna.cli.apply import read_manifests  # lazy: keeps `sedna` start-up light

        for src, d in read_manifests(args.filename):
            try:
                obj = validate(d, source=src)
            except Exception as e:  # noqa: BLE001
                raise UserError(str(e)) from None
            targets.append((KINDS[obj["kind"]]["plural"], obj["metadata"]["namespace"], obj["metadata"]["name"]))
    else:
        if not args.type or not args.names:
            raise UserError("delete: give TYPE NAME... or -f FILE")
        plural = plural_of(args.type)
        if plural == "workers":
            raise UserError("workers belong to their job: delete the job (sedna delete ll NAME)")
        targets = [(plural, args.namespace, n) for n in args.names]
    for plural, ns, name in targets:
        client.call("DELETE", f"{API}/namespaces/{ns}/{plural}/{name}")
        print(f"{plural[:-1] if plural != 'lifelonglearningjobs' else 'lifelonglearningjob'}.sedna.io/{name} deleted")
    return 0

def add_commands(sub):
    from sedna.cli import server as updown  # lazy: keeps `sedna` start-up light
    from sedna.cli.context import RESOLUTION_HELP  # lazy: keeps `sedna` start-up light

    def common(p, server=True):
        p.add_argument("--state-dir", default=None, help="the state folder of a server started here "
                       "(its server.json and token); default: see below")
        if server:
            p.add_argument("--server", help="control plane URL, e.g. http://127.0.0.1:9100 (token from "
                           "SEDNA_TOKEN, or from the state folder or context that names this URL)")
            p.add_argument("--context", help="a context recorded by `sedna up` (default: the current one)")
        p.epilog = RESOLUTION_HELP

    updown.add_commands(sub, common)

    ap = sub.add_parser("apply", help="create or update resources from YAML", description="kubectl-style apply.")
    common(ap)
    ap.add_argument("-f", "--filename", action="append", required=True, help="FILE, DIR or - (repeatable)")
    ap.add_argument("-n", "--namespace", default=None, help="namespace for manifests that name none")
    ap.set_defaults(func=cmd_apply)

    for name, helptext, fn in (("get", "list resources", cmd_get), ("describe", "show one resource in detail",
                                                                    cmd_describe)):
        p = sub.add_parser(name, help=helptext)
        common(p)
        p.add_argument("type", help="datasets|ds, lifelonglearningjobs|ll, workers")
        p.add_argument("name", nargs="?")
        p.add_argument("-n", "--namespace", default="default")
        if name == "get":
            p.add_argument("-o", "--output", choices=["wide", "yaml", "json"])
            p.add_argument("-A", "--all-namespaces", action="store_true")
        p.set_defaults(func=fn)

    lg = sub.add_parser("logs", help="print a worker's log (given a job's name: list its workers)")
    common(lg)
    lg.add_argument("worker")
    lg.add_argument("-f", "--follow", action="store_true", help="keep printing while the worker runs")
    lg.add_argument("-n", "--namespace", default="default")
    lg.set_defaults(func=cmd_logs)

    de = sub.add_parser("delete", help="delete resources (a job's workers are stopped)")
    common(de)
    de.add_argument("type", nargs="?")
    de.add_argument("names", nargs="*")
    de.add_argument("-f", "--filename", action="append")
    de.add_argument("-n", "--namespace", default="default")
    de.set_defaults(func=cmd_delete)
