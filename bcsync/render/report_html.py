"""The access report as one self-contained HTML page: inline CSS and JS, no CDN, no network. Pure.

Rows are rendered as HTML (escaped), so the page reads without JavaScript; the script adds a
free-text filter (every word must match), status / BC / kind selects, and sortable columns
(click a header; again to reverse). Nothing from the config reaches the page unescaped.
"""

from __future__ import annotations

from html import escape

from bcsync.access import AccessReport, AccessRow, Status
from bcsync.render.report_table import HEADERS, cells, summary_line, unmanaged_line

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1b1b}
h1{font-size:1.4rem}
.controls{display:flex;gap:.5rem;flex-wrap:wrap;margin:.8rem 0}
.controls input{min-width:22rem;padding:.3rem}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#f0f0f0;cursor:pointer;user-select:none;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
tr.s-missing-in-BC td{background:#fff1f0}
tr.s-not-in-config td{background:#fff7e6}
tr.s-role-differs td{background:#fffbe6}
tr.s-ignored td,tr.s-asset-group td{background:#f0f5ff}
#count{font-weight:bold}
"""

_JS = """
(function () {
  var table = document.getElementById("access");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var text = rows.map(function (r) { return r.textContent.toLowerCase(); });
  rows.forEach(function (r, i) { r._text = text[i]; });
  var q = document.getElementById("filter");
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-key]"));
  var count = document.getElementById("count");
  function filter() {
    var words = q.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (r) {
      var ok = words.every(function (w) { return r._text.indexOf(w) >= 0; }) &&
        selects.every(function (s) { return !s.value || r.dataset[s.dataset.key] === s.value; });
      r.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " rows shown";
  }
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
  function sortBy(th) {
    var index = th.cellIndex;
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    table.tHead.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = a.cells[index].textContent, y = b.cells[index].textContent;
      if (!x !== !y) { return x ? -1 : 1; }  // empty cells last, either way
      return dir * collator.compare(x, y);
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
  }
  table.tHead.querySelectorAll("th").forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
  });
  q.addEventListener("input", filter);
  selects.forEach(function (s) { s.addEventListener("change", filter); });
  filter();
})();
"""


def _slug(status: Status) -> str:
    return "s-" + status.value.replace(" ", "-")


def _select(key: str, label: str, values: list[str]) -> str:
    options = "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
    return (
        f'<label>{escape(label)} <select id="{key}-filter" data-key="{key}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def _row(row: AccessRow) -> str:
    tds = "".join(f"<td>{escape(c)}</td>" for c in cells(row))
    return (
        f'<tr class="{_slug(row.status)}" data-status="{escape(row.status.value)}" '
        f'data-bc="{escape(row.bc_id)}" data-kind="{row.kind.value}">{tds}</tr>'
    )


def _notes(report: AccessReport) -> str:
    items = [unmanaged_line(bc) for bc in report.bcs]
    found = [f"<li>{escape(i)}</li>" for i in items if i]
    if not found:
        return ""
    return f'<h2>Unmanaged assets</h2><ul id="unmanaged">{"".join(found)}</ul>'


def render_html(report: AccessReport) -> str:
    """The whole page."""
    statuses = [s.value for s in Status if any(r.status is s for r in report.rows)]
    bcs = "".join(
        f'<option value="{escape(b.bc_id)}">{escape(b.bc_name)}</option>' for b in report.bcs
    )
    bc_select = (
        '<label>Business Center <select id="bc-filter" data-key="bc">'
        f'<option value="">all</option>{bcs}</select></label>'
    )
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in HEADERS)
    body = "\n".join(_row(r) for r in report.rows)
    sources = "".join(
        f"<li>{escape(b.bc_name)}: <code>{escape(b.path)}</code></li>" for b in report.bcs
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bcsync access report</title><style>{_CSS}</style></head>
<body>
<h1>bcsync access report</h1>
<p id="summary">{escape(summary_line(report))}</p>
<ul id="configs">{sources}</ul>
{_notes(report)}
<div class="controls">
<input id="filter" type="search" placeholder="Filter: words in any column" aria-label="Filter">
{_select("status", "Status", statuses)}
{bc_select}
{_select("kind", "Kind", ["member", "partner"])}
<span id="count"></span>
</div>
<table id="access"><thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody></table>
<script>{_JS}</script>
</body></html>
"""
