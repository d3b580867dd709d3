"""The self-contained HTML page: inline plotly.js, summary cards, one panel per chart.

The page records script errors in ``window.__errors`` and, once every chart has rendered,
writes ``#report-status`` (``data-state`` = ``ok`` or ``error``) so a headless browser can
check it from the DOM.
"""

from __future__ import annotations

import html
import json

from features.report._charts import Chart

_CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --accent:#2e86ab; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
header { background:#102a43; color:#fff; padding:22px 32px 18px; }
header h1 { margin:0 0 4px; font-size:22px; font-weight:600; }
header p { margin:0; color:#bcccdc; }
main { max-width:1280px; margin:0 auto; padding:20px 24px 40px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(180px, 1fr)); gap:12px;
         margin-bottom:20px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .v { font-size:22px; font-weight:600; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .s { color:var(--muted); font-size:12px; }
.card.warn .v { color:#c0392b; }
.grid { display:grid; grid-template-columns:repeat(2, minmax(0, 1fr)); gap:16px; }
.panel { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
.panel.wide { grid-column:1 / -1; }
.panel h2 { margin:0; font-size:16px; font-weight:600; }
.panel p.caption { margin:2px 0 8px; color:var(--muted); font-size:12.5px; }
.chart { min-height:240px; }
.chart.empty { display:flex; align-items:center; justify-content:center; background:#fafbfc;
               border:1px dashed var(--line); border-radius:6px; color:var(--muted); }
#report-status { color:var(--muted); font-size:12px; margin-top:18px; }
@media (max-width: 900px) { .grid { grid-template-columns:1fr; } }
"""

_WIDE = {"chart-engagement", "chart-usage-hour", "chart-model-quality"}

_BOOT = """
window.__errors = window.__errors || [];
window.onerror = function (msg, src, line) { window.__errors.push(String(msg) + ' @' + line); };
window.addEventListener('unhandledrejection', function (e) {
  window.__errors.push('unhandled: ' + String(e.reason));
});
"""

_RENDER = """
(function () {
  var status = document.getElementById('report-status');
  var figs = JSON.parse(document.getElementById('report-figures').textContent);
  var config = {displaylogo: false, displayModeBar: false, responsive: true};
  var jobs = Object.keys(figs).map(function (id) {
    var f = figs[id];
    return Plotly.newPlot(id, f.data, f.layout, config);
  });
  Promise.all(jobs).then(function () {
    var ok = window.__errors.length === 0;
    status.dataset.state = ok ? 'ok' : 'error';
    status.dataset.charts = String(jobs.length);
    status.textContent = ok ? ('Rendered ' + jobs.length + ' charts.')
                            : ('Errors: ' + window.__errors.join(' | '));
  }, function (err) {
    window.__errors.push(String(err));
    status.dataset.state = 'error';
    status.textContent = 'Errors: ' + window.__errors.join(' | ');
  });
})();
"""


def _panel(c: Chart) -> str:
    wide = " wide" if c.id in _WIDE else ""
    empty = f'<p class="nodata">{html.escape(c.empty)}</p>'
    body = (f'<div class="chart" id="{c.id}"></div>' if c.fig is not None else
            f'<div class="chart empty" id="{c.id}">{empty}</div>')
    return (f'<section class="panel{wide}"><h2>{html.escape(c.title)}</h2>'
            f'<p class="caption">{html.escape(c.caption)}</p>{body}</section>')


def _card(key: str, value: str, sub: str = "", warn: bool = False) -> str:
    cls = "card warn" if warn else "card"
    return (f'<div class="{cls}"><div class="k">{html.escape(key)}</div>'
            f'<div class="v">{html.escape(value)}</div>'
            f'<div class="s">{html.escape(sub)}</div></div>')


def render_page(title: str, subtitle: str, cards: list[tuple[str, str, str, bool]],
                charts: list[Chart], plotly_js: str) -> str:
    """The whole page as one string (no external resources)."""
    figs = {c.id: json.loads(c.fig.to_json()) for c in charts if c.fig is not None}
    # "</" inside the JSON would end the script element early.
    data = json.dumps(figs).replace("</", "<\\/")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>",
        f"<script>{_BOOT}</script>", f"<script>{plotly_js}</script></head><body>",
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header><main>",
        '<div class="cards">' + "".join(_card(*c) for c in cards) + "</div>",
        '<div class="grid">' + "".join(_panel(c) for c in charts) + "</div>",
        '<div id="report-status" data-state="pending">Rendering charts...</div></main>',
        f'<script type="application/json" id="report-figures">{data}</script>',
        f"<script>{_RENDER}</script></body></html>",
    ])
