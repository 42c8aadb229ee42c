"""``sedna apply -f``: reading manifest files (refusing text that is not UTF-8,
nested too deep, or an alias bomb, before it is loaded) and applying them
all or nothing. ``sedna delete -f`` reads its files here too."""

import os
import sys

from sedna.cli import UserError
from sedna.cli.client import Client
from sedna.common.api_paths import API


def read_manifests(files):
    """``[(file, document)]`` of every manifest in ``files`` (paths, folders or ``-``);
    text that is not UTF-8, nested too deep or an alias bomb is refused before loading."""
    from sedna.common import yaml_input  # lazy: keeps `sedna` start-up light
    from sedna.common.exceptions import ManifestError  # lazy: keeps `sedna` start-up light
    from sedna.control.resources import load_manifests  # lazy: keeps `sedna` start-up light

    docs = []
    for f in files:
        paths = [f]
        if f != "-" and os.path.isdir(f):
            paths = sorted(os.path.join(f, n) for n in os.listdir(f) if n.endswith((".yaml", ".yml", ".json")))
        for p in paths:
            try:
                text = yaml_input.decode(sys.stdin.buffer.read(), "<stdin>") if p == "-" \
                    else yaml_input.read_text(p)
                yaml_input.check(text, "<stdin>" if p == "-" else p)
            except OSError as e:
                raise UserError(f"{p}: {e.strerror}") from None
            except yaml_input.InputError as e:
                raise UserError(str(e)) from None
            name = "<stdin>" if p == "-" else p
            try:
                for d in load_manifests(text, source=name):
                    docs.append((p, d))
            except ManifestError as e:
                raise UserError(yaml_message(e, name)) from None
    if not docs:
        raise UserError("no manifests found in " + ", ".join(files))
    return docs


def yaml_message(e, name):
    """One line for a ManifestError of reading ``name``: each problem once as
    ``file:line: message`` (the error's own ``source: `` prefix is not repeated)."""
    parts = []
    for path, msg in e.errors:
        path = str(path)
        parts.append(f"{path}: {msg}" if path.startswith(name) else f"{name}: {path}: {msg}")
    return " ".join("; ".join(parts).split()) or f"{name}: {e}"


def cmd_apply(args):
    """Apply every document, all or nothing: each is validated here, then
    dry-run on the server (``?dryRun=All``: validation and conflicts, nothing
    stored), and only when every dry run passes are they applied."""
    checked = _checked_documents(args)
    client = Client(args.state_dir, args.server, args.context)
    first = None
    for i, (where, obj) in enumerate(checked):
        out = _put(client, obj, where, dry_run=True)
        if not (isinstance(out, dict) and out.get("dryRun") is True):
            if i:  # the server changed under us mid-way
                raise UserError(f"{where}: the server applied this document although a dry run was asked "
                                f"({out.get('result') if isinstance(out, dict) else out}); the documents "
                                "before it were not applied")
            first = out  # an older server ignored dryRun and applied the first document
            print("sedna: warning: the server does not support dry runs; applying the documents "
                  "one by one (not all-or-nothing)", file=sys.stderr)
            break
    for i, (where, obj) in enumerate(checked):
        out = first if (i == 0 and first is not None) else _put(client, obj, where)
        print(f"{_singular(obj)}.sedna.io/{obj['metadata']['name']} {out['result']}")
    return 0


def _checked_documents(args):
    """``[(where, object)]``: every manifest of ``-f``, validated, ``where``
    naming its file and document number."""
    from sedna.common.exceptions import ManifestError  # lazy: keeps `sedna` start-up light
    from sedna.control.resources import validate  # lazy: keeps `sedna` start-up light

    checked, counts = [], {}
    for src, d in read_manifests(args.filename):
        counts[src] = counts.get(src, 0) + 1
        where = f"{src} (document {counts[src]})"
        try:
            obj = validate(d, source=where)
        except ManifestError as e:
            raise UserError(str(e)) from None
        if args.namespace and obj["metadata"]["namespace"] == "default" and \
                not (d.get("metadata") or {}).get("namespace"):
            obj["metadata"]["namespace"] = args.namespace
        checked.append((where, obj))
    return checked


def _singular(obj):
    from sedna.control.resources import KINDS  # lazy: keeps `sedna` start-up light

    return KINDS[obj["kind"]]["singular"]


def _put(client, obj, where, dry_run=False):
    """PUT one object (a dry run: validated and checked, not stored)."""
    from sedna.control.resources import KINDS  # lazy: keeps `sedna` start-up light

    plural = KINDS[obj["kind"]]["plural"]
    ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
    path = f"{API}/namespaces/{ns}/{plural}/{name}" + ("?dryRun=All" if dry_run else "")
    try:
        return client.call("PUT", path, obj)
    except UserError as e:
        if "no sedna control plane at" in str(e):
            raise
        raise UserError(f"{where}: {e}" + ("; nothing applied" if dry_run else "")) from None
