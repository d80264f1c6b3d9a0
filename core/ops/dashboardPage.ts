/**
 * The operations dashboard at `/ops/`: one self-contained page (no external scripts, it must work inside
 * the trust boundary) that polls `/ops/api/flow` and draws partners, components and topics with every edge
 * coloured by its state, and charts of the last hour. The token comes from the URL fragment (`#token=...`,
 * never sent to the server) or is pasted once, and is kept in the tab's session storage.
 */
export const dashboardPage = `<!doctype html>
<html lang="nb">
<head>
<meta charset="utf-8">
<title>metodehub · drift</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --ok:#1a7f37; --idle:#8c959f; --lagging:#bf8700; --failing:#d1242f; --down:#d1242f; --bg:#f6f8fa; --ink:#1f2328; }
  [hidden] { display: none !important; } /* the board's display:grid must not show it before a token is accepted */
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: var(--bg); color: var(--ink); }
  header { display:flex; gap:1.5rem; align-items:baseline; padding: .8rem 1.2rem; background:#fff; border-bottom:1px solid #d0d7de; }
  header h1 { font-size: 1.15rem; margin:0; }
  #status { font-weight:600; }
  #updated { color:#656d76; }
  main { display:grid; grid-template-columns: minmax(760px, 3fr) minmax(320px, 1fr); gap:1rem; padding:1rem; }
  section { background:#fff; border:1px solid #d0d7de; border-radius:6px; padding:.8rem; }
  h2 { font-size:1rem; margin:.2rem 0 .6rem; }
  svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
  .node rect { fill:#fff; stroke:#57606a; rx:6; }
  .node.topic rect { fill:#eef4ff; }
  .node.partner rect, .node.source rect { fill:#fff8e6; }
  .edge { fill:none; stroke-width:3; }
  .ok{stroke:var(--ok)} .idle{stroke:var(--idle)} .lagging{stroke:var(--lagging)} .failing{stroke:var(--failing)} .down{stroke:var(--down); stroke-dasharray:6 4}
  .pill { display:inline-block; padding:0 .5rem; border-radius:1rem; color:#fff; font-size:12px; }
  .pill.ok{background:var(--ok)} .pill.idle{background:var(--idle)} .pill.lagging{background:var(--lagging)} .pill.failing,.pill.down{background:var(--failing)}
  table { border-collapse: collapse; width:100%; }
  td, th { text-align:left; padding:.25rem .4rem; border-bottom:1px solid #eaeef2; vertical-align:top; }
  td.num { text-align:right; font-variant-numeric: tabular-nums; }
  #login { padding:2rem; }
  .chart { width:100%; height:90px; }
  .legend span { margin-right:.8rem; }
</style>
</head>
<body>
<header>
  <h1>metodehub · meldingsflyt</h1>
  <span id="status"></span>
  <span id="updated"></span>
  <span class="legend"><span class="pill ok">ok</span><span class="pill idle">stille</span><span class="pill lagging">henger etter</span><span class="pill failing">feiler</span><span class="pill down">nede</span></span>
</header>
<div id="login" hidden>
  <p>Lim inn et token med drift-scope (<code>npx metodehub token</code>), eller åpne lenken som <code>npm start</code> skrev ut.</p>
  <input id="token" size="80" placeholder="eyJ..."> <button id="save">Bruk</button>
</div>
<main id="board" hidden>
  <section><h2>Flyt nå</h2><svg id="graph" role="img" aria-label="message flow"></svg></section>
  <section>
    <h2>Partnere</h2><table id="partners"></table>
    <h2>Siste time: meldinger/s</h2><svg id="rateChart" class="chart"></svg>
    <h2>Siste time: døde brev</h2><svg id="dlqChart" class="chart"></svg>
    <h2>Siste time: etterslep</h2><svg id="lagChart" class="chart"></svg>
  </section>
  <section style="grid-column: 1 / -1"><h2>Kanter</h2><table id="edges"></table></section>
  <section style="grid-column: 1 / -1" id="followUpSection"><h2>Oppfølging: revurderinger og absolutte frister <span id="followUpCount"></span></h2>
    <p id="followUpEmpty" hidden>Ingen varsler.</p>
    <table id="followUp"></table>
  </section>
  <section style="grid-column: 1 / -1"><h2>Døde brev som venter <span id="dlqCount"></span></h2>
    <p id="dlqEmpty" hidden>Ingen.</p>
    <table id="deadLetters"></table>
    <pre id="dlqDetail" hidden></pre>
  </section>
</main>
<script>
function tokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get('token')) { sessionStorage.setItem('metodehub.token', params.get('token')); history.replaceState(null, '', location.pathname); }
}
tokenFromFragment();
window.addEventListener('hashchange', () => { tokenFromFragment(); start(); });
const el = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;' }[c]));
// What the header says comes from the same answers the panels are drawn from: the flow and the dead-letter list.
let lastPicture = null;
let pendingDeadLetters = null;
const ago = (iso) => { if (!iso) return 'aldri'; const s = Math.round((Date.now() - Date.parse(iso)) / 1000); return s < 60 ? s + ' s siden' : Math.round(s / 60) + ' min siden'; };
el('save').onclick = () => { sessionStorage.setItem('metodehub.token', el('token').value.trim()); start(); };

function layout(picture) {
  const columns = { source: 0, partner: 0, component: 1, topic: 2 };
  const byColumn = [[], [], []];
  for (const n of picture.nodes) byColumn[columns[n.kind]].push(n);
  const pos = {};
  const xs = [10, 300, 590], w = 220, h = 30, gap = 14;
  byColumn.forEach((list, c) => list.forEach((n, i) => { pos[n.id] = { x: xs[c], y: 10 + i * (h + gap), w, h }; }));
  const height = 20 + Math.max(...byColumn.map((l) => l.length)) * (h + gap);
  return { pos, height, width: xs[2] + w + 10 };
}

function drawGraph(picture) {
  const { pos, height, width } = layout(picture);
  const svg = el('graph');
  svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  svg.setAttribute('height', height);
  let out = '<defs>' + ['ok','idle','lagging','failing','down'].map((s) =>
    '<marker id="arrow-' + s + '" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" class="' + s + '" style="fill:var(--' + s + ')"/></marker>').join('') + '</defs>';
  for (const e of picture.edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const leftToRight = a.x < b.x;
    const x1 = leftToRight ? a.x + a.w : a.x, x2 = leftToRight ? b.x : b.x + b.w;
    const y1 = a.y + a.h / 2, y2 = b.y + b.h / 2, mx = (x1 + x2) / 2;
    const label = (e.rate > 0 ? e.rate.toFixed(1) + '/s' : '') + (e.lag ? ' lag ' + e.lag : '') + (e.lag !== null && e.deadLetters ? ' dlq ' + e.deadLetters : '');
    out += '<g data-edge="' + esc(e.id) + '" data-state="' + e.state + '"><title>' + esc(e.from + ' → ' + e.to + ': ' + e.note) + '</title>' +
      '<path class="edge ' + e.state + '" marker-end="url(#arrow-' + e.state + ')" d="M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2 + '"/>' +
      (label ? '<text x="' + mx + '" y="' + ((y1 + y2) / 2 - 4) + '" text-anchor="middle">' + esc(label) + '</text>' : '') + '</g>';
  }
  for (const n of picture.nodes) {
    const p = pos[n.id];
    const state = n.health ? (n.health.ok ? 'ok' : 'down') : '';
    out += '<g class="node ' + n.kind + '" data-node="' + esc(n.id) + '"><title>' + esc(n.health ? n.health.detail : n.label) + '</title>' +
      '<rect x="' + p.x + '" y="' + p.y + '" width="' + p.w + '" height="' + p.h + '" ' + (state ? 'class="' + state + '" style="stroke:var(--' + state + ');stroke-width:2"' : '') + '/>' +
      '<text x="' + (p.x + 8) + '" y="' + (p.y + 19) + '">' + esc(n.label) + '</text></g>';
  }
  svg.innerHTML = out;
}

function chart(svgId, series) {
  const svg = el(svgId), W = 400, H = 90;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  const all = series.flatMap((s) => s.points);
  const max = Math.max(1, ...all);
  const colours = ['#0969da', '#1a7f37', '#bf8700', '#8250df', '#d1242f', '#57606a', '#0a3069'];
  svg.innerHTML = '<text x="2" y="12">' + max.toFixed(max < 10 ? 1 : 0) + '</text>' + series.map((s, i) => {
    const n = s.points.length;
    const pts = s.points.map((v, j) => (n < 2 ? 0 : (j / (n - 1)) * W).toFixed(1) + ',' + (H - 4 - (v / max) * (H - 18)).toFixed(1)).join(' ');
    return '<polyline fill="none" stroke-width="1.5" stroke="' + colours[i % colours.length] + '" points="' + pts + '"><title>' + esc(s.name) + '</title></polyline>';
  }).join('');
}

function renderStatus() {
  if (!lastPicture) return;
  const edges = lastPicture.edges;
  const worst = edges.some((e) => e.state === 'down' || e.state === 'failing') ? 'failing' : edges.some((e) => e.state === 'lagging') ? 'lagging' : 'ok';
  const pills = [];
  if (worst !== 'ok') pills.push('<span class="pill ' + worst + '">' + { lagging: 'noe henger etter', failing: 'noe feiler' }[worst] + '</span>');
  if (pendingDeadLetters === null) pills.push('<span class="pill idle">døde brev: ukjent</span>');
  else if (pendingDeadLetters > 0) pills.push('<span class="pill failing" data-pending="' + pendingDeadLetters + '">' + pendingDeadLetters + ' døde brev venter</span>');
  if (pills.length === 0) pills.push('<span class="pill ok">alt flyter</span>');
  el('status').innerHTML = pills.join(' ');
}

function render(picture) {
  lastPicture = picture;
  renderStatus();
  el('updated').textContent = 'oppdatert ' + new Date(picture.at).toLocaleTimeString('nb-NO') + ', hvert ' + picture.sampleSeconds + ' s';
  drawGraph(picture);
  el('partners').innerHTML = '<tr><th>partner</th><th>tilstand</th><th>detalj</th></tr>' + picture.nodes.filter((n) => n.kind === 'partner' || n.kind === 'source').map((n) =>
    '<tr data-partner="' + esc(n.label) + '"><td>' + esc(n.label) + '</td><td><span class="pill ' + (n.health ? (n.health.ok ? 'ok' : 'down') : 'idle') + '">' + (n.health ? (n.health.ok ? 'oppe' : 'nede') : 'ukjent') + '</span>' +
    (n.health && n.health.circuit ? ' krets ' + esc(n.health.circuit) : '') + '</td><td>' + esc(n.health ? n.health.detail : '') + '</td></tr>').join('');
  el('edges').innerHTML = '<tr><th>fra</th><th>til</th><th>tilstand</th><th class="num">meldinger/s</th><th class="num">etterslep</th><th class="num">døde brev</th><th>siste melding</th><th>merknad</th></tr>' +
    picture.edges.map((e) => '<tr data-edge-row="' + esc(e.id) + '"><td>' + esc(e.from.split(':').slice(1).join(':')) + '</td><td>' + esc(e.to.split(':').slice(1).join(':')) + '</td><td><span class="pill ' + e.state + '">' + e.state + '</span></td>' +
      '<td class="num" data-rate>' + e.rate.toFixed(1) + '</td><td class="num">' + (e.lag ?? '') + '</td><td class="num">' + e.deadLetters + '</td><td>' + ago(e.lastMessageAt) + '</td><td>' + esc(e.note) + '</td></tr>').join('');
  const topics = [...new Set(picture.history.flatMap((s) => Object.keys(s.rates)))];
  chart('rateChart', topics.map((t) => ({ name: t, points: picture.history.map((s) => s.rates[t] || 0) })));
  chart('dlqChart', [{ name: 'døde brev', points: picture.history.map((s) => s.deadLetters) }]);
  const lagEdges = [...new Set(picture.history.flatMap((s) => Object.keys(s.lags)))];
  chart('lagChart', lagEdges.map((id) => ({ name: id, points: picture.history.map((s) => s.lags[id] || 0) })));
}

const api = (path, init = {}) => fetch(path, { ...init, headers: { authorization: 'Bearer ' + sessionStorage.getItem('metodehub.token'), ...(init.body ? { 'content-type': 'application/json' } : {}) } });

function showLogin(why) {
  clearInterval(timer); clearInterval(dlqTimer); clearInterval(followUpTimer);
  lastPicture = null; pendingDeadLetters = null;
  el('board').hidden = true; el('login').hidden = false;
  el('status').textContent = why;
  for (const id of ['graph', 'partners', 'edges', 'deadLetters', 'dlqCount', 'followUp', 'followUpCount']) el(id).innerHTML = '';
  el('dlqEmpty').hidden = true; el('dlqDetail').hidden = true;
}

async function pollDeadLetters() {
  let r;
  try { r = await api('/ops/api/dead-letters?pending=true'); } catch { r = undefined; }
  if (r && (r.status === 401 || r.status === 403)) return showLogin('trenger et token med drift-scope');
  if (!r || !r.ok) {
    // Unknown is not none: the panel and the header say so rather than "Ingen".
    pendingDeadLetters = null;
    el('dlqCount').textContent = '(ukjent)';
    el('dlqEmpty').hidden = true;
    renderStatus();
    return;
  }
  const { entries } = await r.json();
  pendingDeadLetters = entries.length;
  renderStatus();
  el('dlqCount').textContent = '(' + entries.length + ')';
  el('dlqEmpty').hidden = entries.length > 0;
  el('deadLetters').innerHTML = entries.length === 0 ? '' : '<tr><th>oppføring</th><th>forbruker</th><th>nøkkel</th><th>klasse</th><th>når</th><th>grunn</th><th></th></tr>' + entries.map((e) =>
    '<tr data-dead-letter="' + esc(e.entryId) + '" data-consumer="' + esc(e.consumer) + '"><td>' + esc(e.entryId) + '</td><td>' + esc(e.consumer) + (e.refusedBy.length > 1 ? ' (avvist av ' + e.refusedBy.length + ': ' + esc(e.refusedBy.join(', ')) + ')' : '') + '</td><td>' + esc(e.key) + '</td><td>' + esc(e.errorClass) + '</td><td>' + esc(e.time.slice(0, 19)) + '</td><td>' + esc(e.reason) + '</td>' +
    '<td><button data-action="show">vis</button> <button data-action="redrive">send på nytt</button> <button data-action="discard">forkast</button></td></tr>').join('');
}

el('deadLetters').addEventListener('click', async (event) => {
  const button = event.target.closest('button');
  if (!button) return;
  const entry = button.closest('tr').dataset.deadLetter;
  const path = '/ops/api/dead-letters/' + encodeURIComponent(entry);
  if (button.dataset.action === 'show') {
    const r = await api(path);
    el('dlqDetail').hidden = false;
    el('dlqDetail').textContent = JSON.stringify(await r.json(), null, 2);
    return;
  }
  if (button.dataset.action === 'redrive') {
    const note = prompt('Hva ble rettet? (til revisjonssporet)', '') ?? '';
    const r = await api(path + '/redrive', { method: 'POST', body: JSON.stringify({ note }) });
    el('dlqDetail').hidden = false;
    el('dlqDetail').textContent = JSON.stringify(await r.json(), null, 2);
  }
  if (button.dataset.action === 'discard') {
    const note = prompt('Hvorfor forkastes den?', '');
    if (!note) return;
    const r = await api(path + '/discard', { method: 'POST', body: JSON.stringify({ note }) });
    el('dlqDetail').hidden = false;
    el('dlqDetail').textContent = JSON.stringify(await r.json(), null, 2);
  }
  pollDeadLetters();
});

// Follow-up alerts: temporary introductions near or past reassessBy, paused assessments near or past their absolute deadline.
async function pollFollowUp() {
  let r;
  try { r = await api('/ops/api/follow-up'); } catch { r = undefined; }
  if (!r || !r.ok) { el('followUpCount').textContent = r && r.status === 404 ? '(uten lesemodell)' : '(ukjent)'; return; }
  const { today, reassessment, absoluteDeadlines } = await r.json();
  const label = { APPROACHING: 'nærmer seg', OVERDUE: 'passert' };
  const rows = [
    ...reassessment.items.map((t) => ({ kind: 'revurdering', alert: t.alert, methodId: t.methodId, name: t.name, date: t.reassessBy, daysLeft: t.daysLeft })),
    ...absoluteDeadlines.items.map((d) => ({ kind: 'absolutt frist', alert: d.alert, methodId: d.methodId, name: d.name, date: d.absoluteDeadline, daysLeft: d.daysLeft })),
  ].sort((a, b) => a.daysLeft - b.daysLeft);
  el('followUpCount').textContent = '(' + rows.length + ', per ' + today + ')';
  el('followUpEmpty').hidden = rows.length > 0;
  el('followUp').innerHTML = rows.length === 0 ? '' : '<tr><th>varsel</th><th>metode</th><th>navn</th><th>dato</th><th>dager igjen</th></tr>' + rows.map((x) =>
    '<tr data-follow-up="' + esc(x.methodId) + '" data-alert="' + esc(x.alert) + '"><td><span class="pill ' + (x.alert === 'OVERDUE' ? 'down' : 'lagging') + '">' + esc(x.kind) + ' ' + esc(label[x.alert]) + '</span></td><td>' + esc(x.methodId) + '</td><td>' + esc(x.name) + '</td><td>' + esc(x.date) + '</td><td>' + x.daysLeft + '</td></tr>').join('');
}

let timer;
let dlqTimer;
let followUpTimer;
async function poll() {
  const token = sessionStorage.getItem('metodehub.token');
  try {
    const r = await fetch('/ops/api/flow', { headers: { authorization: 'Bearer ' + token } });
    if (r.status === 401 || r.status === 403) return showLogin('trenger et token med drift-scope');
    const picture = await r.json();
    el('login').hidden = true; el('board').hidden = false;
    render(picture);
  } catch (error) {
    el('status').innerHTML = '<span class="pill down">huben svarer ikke</span>';
  }
}
function start() {
  clearInterval(timer); clearInterval(dlqTimer);
  if (!sessionStorage.getItem('metodehub.token')) return showLogin('trenger et token med drift-scope');
  el('status').textContent = 'kobler til…';
  poll(); timer = setInterval(poll, 2000);
  pollDeadLetters(); dlqTimer = setInterval(pollDeadLetters, 5000);
  clearInterval(followUpTimer); pollFollowUp(); followUpTimer = setInterval(pollFollowUp, 10000);
}
start();
</script>
</body>
</html>`;
