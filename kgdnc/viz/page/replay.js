(function(){
'use strict';
const D = JSON.parse(document.getElementById('replay-data').textContent);
const $ = (id) => document.getElementById(id);
const svg = $('map'), slider = $('slider');
const NS = svg.namespaceURI;  // the inline SVG's own namespace
const T = D.steps.length;
const PHASE = {description:'#c6dbef', query:'#fdd0a2', planning:'#dadaeb', answer:'#c7e9c0'};
$('title').textContent = D.title;
$('note').textContent = D.note + ' · layout: ' + D.layout +
  ' · edges lit by weight (share of each head\'s largest weight in the episode)';
$('credit').textContent = D.credit;
slider.max = String(T - 1);

// the sub-graph's extent: the first view
const inside = D.nodes.filter(n => n[3]);
const pool = inside.length ? inside : D.nodes;
let xs = pool.map(n => n[0]), ys = pool.map(n => n[1]);
const pad = 0.06 * Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys), 1);
const home = [Math.min(...xs) - pad, Math.min(...ys) - pad,
              Math.max(...xs) - Math.min(...xs) + 2 * pad, Math.max(...ys) - Math.min(...ys) + 2 * pad];
let view = home.slice();

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function unit() { // drawing units per screen pixel
  const w = svg.clientWidth || 800, h = svg.clientHeight || 600;
  return Math.max(view[2] / w, view[3] / h);
}
function seg(e, lane) { // [from, to, lane index, lanes] -> [x1, y1, x2, y2]
  const a = D.nodes[e[0]], b = D.nodes[e[1]];
  const flip = e[0] > e[1];  // lanes are offset the same way whichever way an edge runs
  let p = flip ? b : a, q = flip ? a : b;
  const dx = q[0] - p[0], dy = q[1] - p[1], len = Math.hypot(dx, dy) || 1;
  const s = (e[2] - (e[3] - 1) / 2) * lane;
  const ox = -dy / len * s, oy = dx / len * s;
  const r = [p[0] + ox, p[1] + oy, q[0] + ox, q[1] + oy];
  return flip ? [r[2], r[3], r[0], r[1]] : r;
}
// In a tree drawn by generation, an edge within one row (spouses, siblings) would run
// along the row over the others: it is drawn as a low tent instead.
const TENTS = D.layout.startsWith('family tree');
function points(s) { // segment -> start, middle, end (the middle carries the arrow)
  let mx = (s[0] + s[2]) / 2, my = (s[1] + s[3]) / 2;
  const dx = Math.abs(s[2] - s[0]);
  if (TENTS && Math.abs(s[3] - s[1]) < 0.01 * dx) my -= 0.12 * dx;
  return [s[0], s[1], mx, my, s[2], s[3]];
}
function line(parent, s, style) {
  return el('polyline', Object.assign({points: points(s).join(' '), fill: 'none'}, style),
    parent);
}

let gBase, gPaths, gLit, gNow, gNodes, gLabels;
function draw() {
  svg.setAttribute('viewBox', view.join(' '));
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const u = unit(), lane = 3.2 * u;
  const defs = el('defs', {}, svg);
  D.headColours.forEach((c, i) => {
    const m = el('marker', {id: 'arrow' + i, viewBox: '0 0 10 10', refX: 5, refY: 5,
      markerWidth: 3, markerHeight: 3, orient: 'auto'}, defs);
    el('path', {d: 'M0,0 L10,5 L0,10 z', fill: c}, m);
  });
  gBase = el('g', {}, svg);
  D.lanes.forEach(l => {
    const s = seg([l[0], l[1], l[3], l[4]], lane);
    line(gBase, s, {stroke: D.groups[l[2]][1], 'stroke-width': 2.4 * u,
      'stroke-opacity': l[5] ? 0.45 : 0.12, 'stroke-linecap': 'round'});
  });
  gLit = el('g', {}, svg);
  gPaths = el('g', {id: 'paths'}, svg);
  D.exactPath.forEach(e => line(gPaths, seg(e, lane), {stroke: '#2ca02c',
    'stroke-width': 9 * u, 'stroke-opacity': 0.5, 'stroke-linecap': 'round'}));
  D.answerPath.forEach(e => line(gPaths, seg(e, lane), {stroke: '#ff7f0e',
    'stroke-width': 3.5 * u, 'stroke-dasharray': (6 * u) + ' ' + (4 * u),
    'stroke-linecap': 'round'}));
  gPaths.style.display = $('show-answer').checked ? '' : 'none';
  gNow = el('g', {}, svg);
  gNodes = el('g', {}, svg);
  const ring = new Set(D.queryNodes.concat(D.answerNodes, D.exactNodes));
  D.nodes.forEach((n, i) => {
    const c = el('circle', {cx: n[0], cy: n[1], r: (n[3] ? 3 : 2) * u,
      fill: '#fff', stroke: n[3] ? '#333' : '#bbb', 'stroke-width': 1.2 * u}, gNodes);
    el('title', {}, c).textContent = n[2];
    if (D.answerNodes.includes(i)) el('circle', {cx: n[0], cy: n[1], r: 9 * u, fill: 'none',
      stroke: '#ff7f0e', 'stroke-width': 2.5 * u, 'stroke-dasharray': (4 * u) + ' ' + (3 * u)}, gNodes);
    if (D.exactNodes.includes(i)) el('circle', {cx: n[0], cy: n[1], r: 12 * u, fill: 'none',
      stroke: '#2ca02c', 'stroke-width': 3 * u, 'stroke-opacity': 0.6}, gNodes);
  });
  gLabels = el('g', {}, svg);
  const named = new Set(ring);
  for (const e of D.exactPath.concat(D.answerPath)) { named.add(e[0]); named.add(e[1]); }
  const all = $('show-labels').checked || D.nodes.length <= 40;
  D.nodes.forEach((n, i) => {
    if (!(all && n[3]) && !named.has(i)) return;
    const t = el('text', {x: n[0] + 4 * u, y: n[1] - 4 * u, class: 'lbl',
      'font-size': 12 * u, 'stroke-width': 3 * u}, gLabels);
    t.textContent = n[2];
  });
  show(step);
}

// per step
let step = 0, timer = null;
const hidden = new Set();  // heads whose lit edges are hidden
function hitsOf(t, h) { // -> [[triple, share], ...]
  const flat = D.hits[t][h], out = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1] / D.levels]);
  return out;
}
function show(t) {
  step = Math.max(0, Math.min(T - 1, t));
  slider.value = String(step);
  const u = unit(), lane = 3.2 * u;
  while (gLit.firstChild) gLit.removeChild(gLit.firstChild);
  while (gNow.firstChild) gNow.removeChild(gNow.firstChild);
  const lists = [];
  D.heads.forEach((name, h) => {
    const hits = hitsOf(step, h);
    const shift = (h - (D.heads.length - 1) / 2) * 2.5 * u;  // heads side by side
    (hidden.has(h) ? [] : hits.slice().reverse()).forEach(([k, share]) => {
      const e = D.triples[k];
      if (!e) return;
      const s = seg(e, lane), dx = s[2] - s[0], dy = s[3] - s[1];
      const len = Math.hypot(dx, dy) || 1, ox = -dy / len * shift, oy = dx / len * shift;
      const p = points(s).map((v, i) => v + (i % 2 ? oy : ox));
      el('polyline', {points: p.join(' '), fill: 'none',
        stroke: D.headColours[h], 'stroke-width': (2 + 4 * share) * u,
        'stroke-opacity': Math.min(1, 0.25 + 0.75 * share), 'stroke-linecap': 'round',
        'marker-mid': 'url(#arrow' + h + ')', class: 'lit'}, gLit);
    });
    lists.push([name, h, hits.slice(0, 3)]);
  });
  const e = D.stepEdges[step];
  if (e) {
    const s = seg(e, lane);
    line(gNow, s, {stroke: '#000', 'stroke-width': 7 * u, 'stroke-opacity': 0.55,
      'stroke-linecap': 'round'});
  }
  D.stepNodes[step].forEach(i => {
    const n = D.nodes[i];
    el('circle', {cx: n[0], cy: n[1], r: 7 * u, fill: 'none', stroke: '#000',
      'stroke-width': 2 * u}, gNow);
  });
  $('step').textContent = 'step ' + (step + 1) + '/' + T + ' — ' + D.steps[step];
  const ph = D.phases.find(p => step >= p[1] && step < p[2]);
  $('phase').textContent = ph ? ph[0] : '';
  $('phase').style.background = ph ? PHASE[ph[0]] || '#eee' : '#eee';
  $('counter').textContent = (step + 1) + ' / ' + T;
  const box = $('touched');
  box.textContent = '';
  lists.forEach(([name, h, top]) => {
    const div = document.createElement('div');
    div.className = 'head';
    const b = document.createElement('b');
    b.textContent = name;
    b.style.color = D.headColours[h];
    div.appendChild(b);
    const peak = D.peaks[h];
    const span = document.createElement('span');
    span.textContent = top.length ? '' : 'nothing stored touched';
    div.appendChild(span);
    const ol = document.createElement('ol');
    top.forEach(([k, share]) => {
      const li = document.createElement('li');
      li.textContent = D.tripleNames[k] + '  (' + (share * peak).toPrecision(2) + ')';
      ol.appendChild(li);
    });
    div.appendChild(ol);
    box.appendChild(div);
  });
  const modes = $('modes');
  modes.textContent = '';
  D.modes[step].forEach((m, h) => {
    const div = document.createElement('div');
    div.className = 'head';
    const b = document.createElement('b');
    b.textContent = 'read ' + (h + 1);
    b.style.color = D.headColours[h + 1];
    div.appendChild(b);
    ['#7b3294', '#2ca02c', '#e66101'].forEach((c, j) => {
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.background = c;
      bar.style.width = Math.round(m[j] * 180) + 'px';
      bar.title = ['backward', 'content', 'forward'][j] + ' ' + m[j].toFixed(2);
      div.appendChild(bar);
    });
    const txt = document.createElement('span');
    txt.textContent = ' b ' + m[0].toFixed(2) + ' c ' + m[1].toFixed(2) + ' f ' + m[2].toFixed(2);
    txt.style.fontSize = '11px';
    div.appendChild(txt);
    modes.appendChild(div);
  });
  $('usage-text').textContent = 'mean ' + D.usageMean[step].toFixed(3) + ' over N = ' +
    D.memorySize + ' slots (one cell per slot; darker = more used)';
  const cv = $('usage'), row = D.usage[step];
  cv.width = row.length;
  const ctx = cv.getContext('2d');
  for (let i = 0; i < row.length; i++) {
    const v = 255 - Math.round(Number(row[i]) / 9 * 255);
    ctx.fillStyle = 'rgb(' + v + ',' + v + ',' + v + ')';
    ctx.fillRect(i, 0, 1, cv.height);
  }
}

// phases on the slider
D.phases.forEach(p => {
  if (p[2] <= p[1]) return;
  const d = document.createElement('div');
  d.style.left = (100 * p[1] / T) + '%';
  d.style.width = (100 * (p[2] - p[1]) / T) + '%';
  d.style.background = PHASE[p[0]] || '#eee';
  d.textContent = p[0];
  d.title = p[0] + ': steps ' + (p[1] + 1) + '-' + p[2];
  $('bands').appendChild(d);
});
const legend = $('legend');
D.heads.forEach((h, i) => {  // click a head to hide or show its lit edges
  const s = document.createElement('span');
  s.innerHTML = '<i></i>';
  s.firstChild.style.background = D.headColours[i];
  s.appendChild(document.createTextNode(h + ' head'));
  s.style.cursor = 'pointer';
  s.title = 'click to hide or show this head';
  s.addEventListener('click', () => {
    if (hidden.has(i)) hidden.delete(i); else hidden.add(i);
    s.style.opacity = hidden.has(i) ? 0.35 : 1;
    show(step);
  });
  legend.appendChild(s);
});
[['#ff7f0e', 'model\'s answer (dashed)'], ['#2ca02c', 'exact answer']].forEach(([c, t]) => {
  const s = document.createElement('span');
  s.innerHTML = '<i></i>';
  s.firstChild.style.background = c;
  s.appendChild(document.createTextNode(t + (t === 'exact answer' ? '' : (D.correct ? ' — correct' : ' — wrong'))));
  legend.appendChild(s);
});
D.groups.slice(0, 24).forEach(([g, c]) => {
  const s = document.createElement('span');
  s.innerHTML = '<i></i>';
  s.firstChild.style.background = c;
  s.appendChild(document.createTextNode(g));
  legend.appendChild(s);
});

function stop() { if (timer) { clearInterval(timer); timer = null; } $('play').textContent = '▶ play'; }
function play() {
  if (timer) { stop(); return; }
  if (step >= T - 1) show(0);
  $('play').textContent = '❚❚ pause';
  timer = setInterval(() => { if (step >= T - 1) stop(); else show(step + 1); },
    Number($('speed').value));
}
$('play').addEventListener('click', play);
$('back').addEventListener('click', () => { stop(); show(step - 1); });
$('next').addEventListener('click', () => { stop(); show(step + 1); });
$('speed').addEventListener('change', () => { if (timer) { stop(); play(); } });
slider.addEventListener('input', () => { stop(); show(Number(slider.value)); });
$('show-labels').addEventListener('change', draw);
$('show-answer').addEventListener('change', () => {
  gPaths.style.display = $('show-answer').checked ? '' : 'none'; });
$('fit').addEventListener('click', () => { view = home.slice(); draw(); });
document.addEventListener('keydown', (ev) => {
  if (ev.target.tagName === 'SELECT' || ev.target.tagName === 'INPUT' && ev.target.type !== 'range') return;
  if (ev.key === 'ArrowRight') { stop(); show(step + 1); ev.preventDefault(); }
  else if (ev.key === 'ArrowLeft') { stop(); show(step - 1); ev.preventDefault(); }
  else if (ev.key === ' ') { play(); ev.preventDefault(); }
});
// zoom (wheel) and pan (drag)
svg.addEventListener('wheel', (ev) => {
  ev.preventDefault();
  const r = svg.getBoundingClientRect(), k = ev.deltaY > 0 ? 1.2 : 1 / 1.2;
  const fx = (ev.clientX - r.left) / r.width, fy = (ev.clientY - r.top) / r.height;
  const w = view[2] * k, h = view[3] * k;
  view = [view[0] + (view[2] - w) * fx, view[1] + (view[3] - h) * fy, w, h];
  draw();
}, {passive: false});
let drag = null;
svg.addEventListener('mousedown', (ev) => { drag = [ev.clientX, ev.clientY, view.slice()]; });
window.addEventListener('mouseup', () => { drag = null; });
svg.addEventListener('mousemove', (ev) => {
  if (!drag) return;
  const u = unit();
  view = [drag[2][0] - (ev.clientX - drag[0]) * u, drag[2][1] - (ev.clientY - drag[1]) * u,
          view[2], view[3]];
  svg.setAttribute('viewBox', view.join(' '));
});
svg.addEventListener('mouseleave', () => { if (drag) { drag = null; draw(); } });
svg.addEventListener('mouseup', () => { draw(); });
window.addEventListener('resize', draw);
const start = D.phases.find(p => p[0] !== 'description');
draw();
show(location.hash && !isNaN(Number(location.hash.slice(1))) ? Number(location.hash.slice(1)) - 1
     : start ? start[1] : 0);
document.body.dataset.replayReady = '1';  // the script ran to its end
})();
