/// The report's one HTML page, a Mustache template over `ReportPage`: inline CSS and SVG, no script
/// and nothing loaded from anywhere (it opens from an email attachment), Okabe–Ito colours with
/// shapes as well as colour for every distinction (colour-blind safe), a table with every number
/// under each chart (its text alternative), and print rules for A4.
enum ReportTemplate {
    static let page = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
    <title>Canary report: {{subject}}, {{from}} to {{to}}</title>
    <style>
    :root { --value: #0072B2; --band: #cfe3f1; --centre: #56B4E9; --deviating: #D55E00; --alert: #E69F00; --resolved: #009E73; --ink: #1a1a1a; --muted: #5b5b5b; }
    * { box-sizing: border-box; }
    body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); margin: 0 auto; padding: 16px 20px; max-width: 760px; background: #fff; }
    h1 { font-size: 20px; margin: 0 0 2px; }
    h2 { font-size: 16px; margin: 0 0 4px; }
    .meta { color: var(--muted); margin: 0 0 12px; }
    .summary { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 24px; border: 1px solid #ccc; border-radius: 6px; padding: 10px 14px; margin-bottom: 16px; }
    .summary h3 { font-size: 13px; margin: 0 0 4px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
    .summary ul { margin: 0; padding-left: 18px; }
    .summary table { border-collapse: collapse; }
    .summary td { padding: 0 10px 0 0; }
    .legend { display: flex; flex-wrap: wrap; gap: 4px 16px; color: var(--muted); font-size: 12px; margin: 0 0 12px; }
    .legend svg { vertical-align: middle; }
    section.chart { margin: 0 0 18px; break-inside: avoid; page-break-inside: avoid; }
    .estimated { font-size: 12px; font-weight: normal; color: #fff; background: var(--muted); border-radius: 3px; padding: 1px 5px; margin-left: 6px; }
    .rule { color: var(--muted); font-size: 12px; margin: 0 0 4px; }
    svg.plot { width: 100%; height: auto; display: block; }
    .axis { stroke: #999; stroke-width: 1; }
    .grid { stroke: #e6e6e6; stroke-width: 1; }
    .tick { font-size: 10px; fill: var(--muted); }
    .band { fill: var(--band); stroke: none; }
    .line { fill: none; stroke: var(--value); stroke-width: 1.6; }
    .dot { fill: var(--value); }
    .deviating { fill: var(--deviating); stroke: #fff; stroke-width: .8; }
    .alert-marker line { stroke: var(--alert); stroke-width: 1.4; stroke-dasharray: 4 2; }
    .alert-marker.resolved line { stroke: var(--resolved); stroke-dasharray: 1 2; }
    .alert-marker text { font-size: 10px; font-weight: bold; fill: #000; }
    .alert-marker rect { fill: var(--alert); }
    .alert-marker.resolved rect { fill: var(--resolved); }
    ol.events { margin: 4px 0 0; padding-left: 0; list-style: none; font-size: 12px; }
    ol.events li { margin: 1px 0; }
    .n { display: inline-block; min-width: 20px; text-align: center; font-weight: bold; border-radius: 3px; background: var(--alert); margin-right: 4px; }
    .n.resolved { background: var(--resolved); color: #fff; }
    details { font-size: 12px; margin-top: 4px; }
    details table { border-collapse: collapse; margin-top: 4px; }
    details th, details td { text-align: right; padding: 1px 8px; border-bottom: 1px solid #eee; }
    details th:first-child, details td:first-child { text-align: left; }
    tr.dev td { color: var(--deviating); font-weight: bold; }
    footer { color: var(--muted); font-size: 11px; border-top: 1px solid #ddd; margin-top: 18px; padding-top: 6px; }
    @page { size: A4; margin: 12mm; }
    @media print {
      body { max-width: none; padding: 0; font-size: 11px; }
      details > table { display: table; }
      a { color: inherit; text-decoration: none; }
    }
    </style>
    </head>
    <body>
    <header>
    <h1>Canary report: {{subject}}</h1>
    <p class="meta">{{from}} to {{to}} ({{zone}}) · generated {{generated}} · {{source}}</p>
    </header>
    <div class="summary" role="region" aria-label="Summary">
    <div><h3>Data coverage</h3><table>{{#coverage}}<tr><td>{{stream}}</td><td>{{days}} of {{of}} days</td><td>{{percent}}</td></tr>{{/coverage}}</table></div>
    <div><h3>Alerts in the period</h3>{{#hasAlerts}}<table>{{#alertCounts}}<tr><td>{{kind}}</td><td>{{count}}</td></tr>{{/alertCounts}}</table>{{/hasAlerts}}{{^hasAlerts}}<p>None.</p>{{/hasAlerts}}</div>
    <div style="grid-column: 1 / 3"><h3>Deviating now</h3>{{#hasDeviating}}<ul>{{#deviatingNow}}<li>{{.}}</li>{{/deviatingNow}}</ul>{{/hasDeviating}}{{^hasDeviating}}<p>Nothing: every feature is back within the person's usual range.</p>{{/hasDeviating}}</div>
    </div>
    <p class="legend" aria-hidden="true">
    <span><svg width="22" height="10"><rect width="22" height="10" class="band"/></svg> usual range (centre ± threshold × spread)</span>
    <span><svg width="22" height="10"><line x1="0" y1="5" x2="22" y2="5" class="line"/><circle cx="11" cy="5" r="2.6" class="dot"/></svg> daily value</span>
    <span><svg width="12" height="12"><path d="M6 0 L12 11 L0 11 Z" class="deviating"/></svg> outside the usual range</span>
    <span><svg width="22" height="12"><rect x="4" y="0" width="14" height="12" fill="#E69F00"/></svg> alert</span>
    <span><svg width="22" height="12"><rect x="4" y="0" width="14" height="12" fill="#009E73"/></svg> resolved</span>
    <span>a break in the line: no data that day (gaps and non-wear are not zeros)</span>
    </p>
    {{#charts}}
    <section class="chart" id="feature-{{id}}">
    <h2>{{label}}{{#estimated}}<span class="estimated">estimated from activity</span>{{/estimated}}</h2>
    <p class="rule">{{rule}}</p>
    <svg class="plot" viewBox="0 0 {{width}} {{height}}" role="img" aria-labelledby="t-{{id}} d-{{id}}" xmlns="http://www.w3.org/2000/svg">
    <title id="t-{{id}}">{{label}}</title>
    <desc id="d-{{id}}">{{description}}</desc>
    {{#yTicks}}<line class="grid" x1="{{plotLeft}}" x2="{{plotRight}}" y1="{{at}}" y2="{{at}}"/><text class="tick" x="{{plotLeft}}" dx="-4" y="{{at}}" dy="3" text-anchor="end">{{label}}</text>{{/yTicks}}
    {{#bands}}<polygon class="band" points="{{.}}"/>{{/bands}}
    {{#lines}}<polyline class="line" points="{{.}}"/>{{/lines}}
    {{#dots}}{{#deviating}}<path class="deviating" d="M{{cx}} {{cy}} m0 -5 l4.5 8 l-9 0 z"><title>{{title}}</title></path>{{/deviating}}{{^deviating}}<circle class="dot" cx="{{cx}}" cy="{{cy}}" r="2.4"><title>{{title}}</title></circle>{{/deviating}}{{/dots}}
    {{#markers}}<g class="alert-marker{{#resolved}} resolved{{/resolved}}"><line x1="{{x}}" x2="{{x}}" y1="{{plotTop}}" y2="{{plotBottom}}"/><rect x="{{x}}" y="0" width="16" height="12" transform="translate(-8 0)"/><text x="{{x}}" y="10" text-anchor="middle">{{number}}</text><title>{{date}} {{kind}}: {{explanation}}</title></g>{{/markers}}
    <line class="axis" x1="{{plotLeft}}" x2="{{plotRight}}" y1="{{plotBottom}}" y2="{{plotBottom}}"/>
    {{#xTicks}}<text class="tick" x="{{at}}" y="{{height}}" dy="-8" text-anchor="middle">{{label}}</text>{{/xTicks}}
    </svg>
    {{#hasMarkers}}<ol class="events">{{#markers}}<li><span class="n{{#resolved}} resolved{{/resolved}}">{{number}}</span>{{date}} {{kind}}: {{explanation}}</li>{{/markers}}</ol>{{/hasMarkers}}
    <details><summary>The numbers</summary>
    <table><thead><tr><th>day</th><th>value</th><th>usual</th><th>z</th></tr></thead><tbody>
    {{#rows}}<tr{{#deviating}} class="dev"{{/deviating}}><td>{{date}}</td><td>{{value}}</td><td>{{baseline}}</td><td>{{z}}</td></tr>{{/rows}}
    </tbody></table></details>
    </section>
    {{/charts}}
    {{^hasCharts}}<p>No feature of {{subject}} has a value in this period.</p>{{/hasCharts}}
    {{#hasOtherEvents}}<section class="chart"><h2>Other events</h2><ol class="events">{{#otherEvents}}<li><span class="n{{#resolved}} resolved{{/resolved}}">{{number}}</span>{{date}} {{kind}}: {{explanation}}</li>{{/otherEvents}}</ol></section>{{/hasOtherEvents}}
    <footer>Canary compares each day with this person's own usual range; a value outside it is a prompt to talk, not a diagnosis. Days without data are left blank.</footer>
    </body>
    </html>
    """
}
