"""The dashboard's HTML: one layout for every page, and escaping.

Pages are server-rendered f-strings; every value that comes from a manifest,
a status, a report or a log goes through :func:`esc`. The layout links the
stylesheet (and a page's scripts) from ``/ui/static/``; the Content Security
Policy allows no inline script or style, so nothing injected can run.
"""

import html
from urllib.parse import quote

from fastapi.responses import HTMLResponse

from sedna.server.dashboard.session import csrf_token

STATIC = "/ui/static/"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


def job_url(namespace, name, sub="") -> str:
    """A job's dashboard page (``sub``: a sub-path or query after it), names percent-encoded."""
    return f"/ui/jobs/{quote(namespace, safe='')}/{quote(name, safe='')}" + sub


def esc(value) -> str:
    """``value`` as text safe inside HTML elements and quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _nav(request):
    token = csrf_token(request)
    logout = (f'<form method="post" action="/ui/logout" class="logout"><input type="hidden" name="csrf" '
              f'value="{esc(token)}"><button type="submit">Log out</button></form>') if token else ""
    return f'<nav><a href="/ui/" class="brand">sedna</a><a href="/ui/">Jobs</a>{logout}</nav>'


def page(request, title, body_html, status=200, nav=True, scripts=()) -> HTMLResponse:
    """A whole page: ``title`` (escaped here) and ``body_html`` (already escaped by
    the caller) in the shared layout; ``scripts``: file names under ``/ui/static/``."""
    tags = "".join(f'<script src="{STATIC}{esc(s)}" defer></script>' for s in scripts)
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · sedna</title>
<link rel="stylesheet" href="{STATIC}dashboard.css">{tags}</head>
<body>{_nav(request) if nav else ""}<main>
{body_html}
</main></body></html>"""
    return HTMLResponse(doc, status_code=status, headers=HEADERS)


def num(value, digits=3) -> str:
    """A metric for a table cell: numbers rounded, anything else escaped, None as "–"."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return esc(value)
    if isinstance(value, float):
        return "–" if value != value else f"{value:.{digits}f}"
    return esc(value)


def metric_value(value) -> str:
    """A metric's value: a float with 3 decimals (3 significant digits when
    tiny or huge), anything else escaped, None as "–"."""
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return f"{value:.3f}" if value == 0 or 0.001 <= abs(value) < 1e6 else f"{value:.3g}"
    return num(value)


def _flat(metrics, prefix="", depth=0):
    for k, v in metrics.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and depth < 3:
            yield from _flat(v, key + ".", depth + 1)
        elif not isinstance(v, (dict, list)):
            yield key, v


def metrics_table(metrics, skip=("n_samples", "deployed")) -> str:
    """A report's metrics as a two-column list, name and rounded value (nested ones as
    ``a.b``; a ``<dl>``, so that it sits in a table's cell without adding rows); "" when none."""
    if not isinstance(metrics, dict):
        return ""
    rows = [f'<dt>{esc(k)}</dt><dd class="num">{metric_value(v)}</dd>'
            for k, v in _flat({k: v for k, v in metrics.items() if k not in skip})]
    return f'<dl class="metrics">{"".join(rows)}</dl>' if rows else ""


def duration(seconds) -> str:
    """``75`` → ``1m 15s``; None → "–"."""
    if seconds is None:
        return "–"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"
