"""The access report as one self-contained HTML page: inline CSS and JS, no CDN, no network. Pure.

Provenance first (commit, tool, how each BC was read). Rows are rendered as HTML (escaped), so
the table reads without JavaScript; the script adds a free-text filter (every word must match),
status / BC / kind selects, sortable columns (click a header; again to reverse), and three more
views built from the same rows: a matrix (people x assets, per BC and asset type), one person's
access, and who reaches one asset. Cells wrap, so the key columns fit a 1,280-pixel window.
Nothing from the config reaches the page unescaped.
"""

from __future__ import annotations

import json
from html import escape

from bcsync.auditor.access import AccessReport, AccessRow, Status
from bcsync.render.report_table import (
    HEADERS,
    cells,
    provenance_lines,
    summary_line,
    unmanaged_line,
)

_CSS = """
body{font:13px/1.35 system-ui,sans-serif;margin:1rem;color:#1b1b1b}
h1{font-size:1.4rem}
h2{font-size:1.1rem}
#provenance dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.3rem 0}
#provenance dt{font-weight:bold}
#provenance dd{margin:0;overflow-wrap:anywhere}
nav#views{display:flex;gap:.3rem;margin:.8rem 0}
nav#views button{padding:.3rem .8rem}
nav#views button[aria-pressed=true]{font-weight:bold;background:#dde7ff}
.controls{display:flex;gap:.5rem;flex-wrap:wrap;margin:.8rem 0}
.controls input{min-width:22rem;padding:.3rem}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.2rem .35rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
td.via-admin{color:#555;font-style:italic}
#matrix th,#matrix td{white-space:nowrap;overflow-wrap:normal}
#matrix-wrap{overflow:auto;max-height:80vh}
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


# The other views, built from the table's rows (their cells and data attributes).
_VIEWS_JS = """
(function () {
  var rows = Array.prototype.slice.call(document.getElementById("access").tBodies[0].rows);
  var COL = %COLUMNS%;
  var ADMIN = "%ADMIN%", MATRIX_CELLS = %MATRIX_CELLS%;
  function cell(r, name) { return r.cells[COL[name]].textContent; }
  function role(r) { return cell(r, "Role (config)") || cell(r, "Role (BC)"); }
  function uniq(list, key) {
    var seen = Object.create(null), out = [];
    list.forEach(function (x) { var k = key(x); if (!seen[k]) { seen[k] = true; out.push(x); } });
    return out;
  }
  function byText(name) {
    return function (a, b) { return cell(a, name).localeCompare(cell(b, name)); };
  }
  function fill(select, pairs, keep) {
    select.textContent = "";
    pairs.forEach(function (p) {
      var o = document.createElement("option");
      o.value = p[0]; o.textContent = p[1]; select.appendChild(o);
    });
    if (keep && pairs.some(function (p) { return p[0] === keep; })) { select.value = keep; }
  }
  function add(tr, tag, text, cls) {
    var c = document.createElement(tag);
    c.textContent = text;
    if (cls) { c.className = cls; }
    tr.appendChild(c);
    return c;
  }
  function listing(table, chosen, names) {
    table.textContent = "";
    var head = table.createTHead().insertRow();
    names.forEach(function (n) { add(head, "th", n); });
    var body = table.createTBody();
    chosen.forEach(function (r) {
      var tr = body.insertRow();
      tr.className = r.className;
      names.forEach(function (n) { add(tr, "td", cell(r, n)); });
    });
  }
  function assetKey(r) { return [r.dataset.bc, r.dataset.type, r.dataset.asset].join("/"); }
  var mBc = document.getElementById("matrix-bc"), mType = document.getElementById("matrix-type");
  var onAssets = rows.filter(function (r) { return r.dataset.type !== "business_center"; });
  function matrix() {
    var bcs = uniq(onAssets, function (r) { return r.dataset.bc; });
    var bcNames = bcs.map(function (r) { return [r.dataset.bc, cell(r, "Business Center")]; });
    fill(mBc, bcNames, mBc.value);
    var inBc = onAssets.filter(function (r) { return r.dataset.bc === mBc.value; });
    var types = uniq(inBc, function (r) { return r.dataset.type; });
    var typeNames = types.map(function (r) { return [r.dataset.type, cell(r, "Asset type")]; });
    fill(mType, typeNames, mType.value);
    var chosen = inBc.filter(function (r) { return r.dataset.type === mType.value; });
    var assets = uniq(chosen, assetKey).sort(byText("Asset"));
    var people = uniq(chosen, function (r) { return r.dataset.who; }).sort(byText("Who"));
    var grid = document.getElementById("matrix"), note = document.getElementById("matrix-note");
    grid.textContent = "";
    if (assets.length * people.length > MATRIX_CELLS) {
      note.textContent = people.length + " x " + assets.length + " is too large to draw: " +
        "use the table's filter, or By person / By asset.";
      return;
    }
    note.textContent = people.length + " people and partners x " + assets.length + " assets; " +
      "italic: through the BC admin role.";
    var at = Object.create(null);
    chosen.forEach(function (r) {
      var k = r.dataset.who + " " + assetKey(r);
      (at[k] = at[k] || []).push(r);
    });
    var head = grid.createTHead().insertRow();
    add(head, "th", "Who");
    assets.forEach(function (a) { add(head, "th", cell(a, "Asset")); });
    var body = grid.createTBody();
    people.forEach(function (p) {
      var tr = body.insertRow();
      add(tr, "th", cell(p, "Who"));
      assets.forEach(function (a) {
        var found = at[p.dataset.who + " " + assetKey(a)] || [];
        var direct = found.filter(function (r) { return r.dataset.status !== ADMIN; });
        var text = direct.map(role).join("; ");
        var shown = text || (found.length ? "admin (role)" : "");
        var c = add(tr, "td", shown, text ? "" : "via-admin");
        c.title = found.map(function (r) {
          return cell(r, "Status") + ": " + cell(r, "Source");
        }).join("\\n");
        if (direct.length) { c.className = direct[0].className; }
      });
    });
  }
  var pick = document.getElementById("person-select");
  function person() {
    if (!pick.options.length) {
      var people = uniq(rows, function (r) { return r.dataset.who; }).sort(byText("Who"));
      fill(pick, people.map(function (r) { return [r.dataset.who, cell(r, "Who")]; }));
    }
    var mine = rows.filter(function (r) { return r.dataset.who === pick.value; });
    listing(document.getElementById("person-table"), mine, %PERSON%);
  }
  var which = document.getElementById("asset-select");
  function asset() {
    if (!which.options.length) {
      var assets = uniq(rows, assetKey).sort(byText("Asset"));
      fill(which, assets.map(function (r) {
        return [assetKey(r), cell(r, "Business Center") + ": " + cell(r, "Asset type") + " " +
          cell(r, "Asset")];
      }));
    }
    var reach = rows.filter(function (r) { return assetKey(r) === which.value; });
    reach.sort(byText("Who"));
    listing(document.getElementById("asset-table"), reach, %ASSET%);
  }
  var views = {table: function () {}, matrix: matrix, person: person, asset: asset};
  var buttons = Array.prototype.slice.call(document.querySelectorAll("nav#views button"));
  function show(name) {
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.view === name));
    });
    Object.keys(views).forEach(function (v) {
      document.getElementById("view-" + v).hidden = v !== name;
    });
    views[name]();
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { show(b.dataset.view); });
  });
  [mBc, mType].forEach(function (s) { s.addEventListener("change", matrix); });
  pick.addEventListener("change", person);
  which.addEventListener("change", asset);
})();
"""
MATRIX_CELLS = 200_000
_ROLES_AND_WHY = ["Role (config)", "Role (BC)", "Status", "Source", "Expires", "Reason"]
PERSON_COLUMNS = ["Business Center", "Asset type", "Asset", *_ROLES_AND_WHY]
ASSET_COLUMNS = ["Who", "Kind", *_ROLES_AND_WHY]


def _views_js() -> str:
    columns = {name: i for i, name in enumerate(HEADERS)}
    return (
        _VIEWS_JS.replace("%COLUMNS%", json.dumps(columns))
        .replace("%ADMIN%", Status.ADMIN_ROLE.value)
        .replace("%MATRIX_CELLS%", str(MATRIX_CELLS))
        .replace("%PERSON%", json.dumps(PERSON_COLUMNS))
        .replace("%ASSET%", json.dumps(ASSET_COLUMNS))
    )


def _provenance(report: AccessReport) -> str:
    items = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>"
        for label, value in provenance_lines(report)
    )
    return f'<section id="provenance"><h2>Provenance</h2><dl>{items}</dl></section>'


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
        f'data-bc="{escape(row.bc_id)}" data-kind="{row.kind.value}" '
        f'data-who="{escape(row.principal)}" data-type="{escape(row.asset_type)}" '
        f'data-asset="{escape(row.asset_id)}">{tds}</tr>'
    )


def _notes(report: AccessReport) -> str:
    items = [unmanaged_line(bc) for bc in report.bcs]
    found = [f"<li>{escape(i)}</li>" for i in items if i]
    if not found:
        return ""
    return f'<h2>Unmanaged assets</h2><ul id="unmanaged">{"".join(found)}</ul>'


def _incoming(report: AccessReport) -> str:
    """Partners' assets shared with the BCs: a table of its own, outside the access views."""
    if not report.incoming:
        return ""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in HEADERS)
    body = "\n".join(_row(r) for r in report.incoming)
    return (
        '<section id="incoming"><h2>Shared with these Business Centers by partners '
        "(incoming; only the partner can change these)</h2>"
        f'<table id="incoming-table"><thead><tr>{head}</tr></thead><tbody>\n{body}\n'
        "</tbody></table></section>"
    )


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
{_provenance(report)}
<ul id="configs">{sources}</ul>
{_notes(report)}
{_incoming(report)}
<nav id="views" aria-label="Views">
<button type="button" data-view="table" aria-pressed="true">Table</button>
<button type="button" data-view="matrix" aria-pressed="false">Matrix</button>
<button type="button" data-view="person" aria-pressed="false">By person</button>
<button type="button" data-view="asset" aria-pressed="false">By asset</button>
</nav>
<section id="view-matrix" hidden>
<div class="controls"><label>Business Center <select id="matrix-bc"></select></label>
<label>Asset type <select id="matrix-type"></select></label> <span id="matrix-note"></span></div>
<div id="matrix-wrap"><table id="matrix"></table></div>
</section>
<section id="view-person" hidden>
<div class="controls"><label>Person or partner <select id="person-select"></select></label></div>
<table id="person-table"></table>
</section>
<section id="view-asset" hidden>
<div class="controls"><label>Asset <select id="asset-select"></select></label></div>
<table id="asset-table"></table>
</section>
<section id="view-table">
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
</section>
<script>{_JS}</script>
<script>{_views_js()}</script>
</body></html>
"""
