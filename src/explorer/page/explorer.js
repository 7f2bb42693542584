// trialsim explorer: the page keeps the scenario's text; every change is validated and simulated
// by the server (a quick pass, then exactly `trialsim run`), which streams progress lines and then
// the result. A newer change aborts the older one's requests; the server cancels its work.
'use strict';

const $ = (id) => document.getElementById(id);
const channel = 'page-' + Array.from(crypto.getRandomValues(new Uint32Array(2))).join('-');

const state = {
  file: 'scenario.toml',
  valid: '',        // the text of the results on screen
  report: null,     // report.html of the refined results on screen
  controls: [],
  initial: [],      // the controls of the file as served: what a shared link is relative to
  generation: 0,
  controller: null,
  changedAt: 0,     // when the user made the change being computed (performance.now())
  lastKey: null,    // the control changed last: where a validation error is shown
  result: null,     // the result on screen
  pinned: null,     // { what, result }: the pinned result, compared with the one on screen
};

// The most a shared link may carry: it is data from anywhere, read only against the controls.
const SHARE_MAX_CHARS = 4096;
const SHARE_MAX_EDITS = 64;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$/;

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function num(x, d = 3) {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : Number(x).toFixed(d);
}

function pctse(p) {
  return p ? `${(100 * p.probability).toFixed(1)}% ± ${(100 * p.se).toFixed(1)}` : '—';
}

function setStatus(text) {
  $('status').textContent = text;
}

function post(path, body, signal) {
  return fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
    credentials: 'same-origin',
  });
}

// Reads a stream of JSON lines; returns the last line (result, error or cancelled).
async function readStream(resp, onProgress) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      if ('progress' in line) onProgress(line.progress, line.total);
      else return line;
    }
  }
  return { error: 'the server closed the connection before the result' };
}

async function compute(path, body, signal, onProgress) {
  try {
    const resp = await post(path, body, signal);
    if (!resp.ok) {
      const e = await resp.json().catch(() => ({ error: resp.statusText }));
      return { error: e.error, status: resp.status };
    }
    return await readStream(resp, onProgress);
  } catch (e) {
    if (e.name === 'AbortError') return { cancelled: true };
    return { error: String(e) };
  }
}

function showProgress(done, total) {
  const p = $('progress');
  p.hidden = false;
  p.max = total;
  p.value = done;
}

// One change: the quick pass, then the refined one. A newer change makes this one stale.
async function recompute(text, changedAt = performance.now()) {
  const generation = ++state.generation;
  state.changedAt = changedAt;
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  $('results').classList.add('stale');
  // Until this change's results arrive, the ones on screen are another text's.
  document.body.dataset.stage = 'computing';
  setStatus('quick pass…');
  const quick = await compute('/api/simulate', { toml: text, stage: 'quick', channel }, controller.signal, showProgress);
  if (generation !== state.generation || quick.cancelled) return;
  if (quick.error) {
    invalid(quick.error, quick.status === 422);
    return;
  }
  valid();
  state.valid = text;
  state.report = null;
  $('download-report').disabled = true;
  render(quick.result);
  const quickMs = Math.round(performance.now() - changedAt);
  document.body.dataset.quickMs = quickMs;
  setStatus(`quick pass (${quick.result.replicates} replicates, ${quickMs} ms); refining…`);
  const refined = await compute('/api/simulate', { toml: text, stage: 'refined', channel }, controller.signal, showProgress);
  if (generation !== state.generation || refined.cancelled) return;
  $('progress').hidden = true;
  if (refined.error) {
    setStatus('refining failed: ' + refined.error);
    return;
  }
  render(refined.result);
  const refinedMs = Math.round(performance.now() - changedAt);
  document.body.dataset.refinedMs = refinedMs;
  state.report = refined.result.report;
  $('download-report').disabled = false;
  const r = refined.result;
  setStatus(`refined: ${r.replicates} replicates` + (r.null_replicates ? ` + ${r.null_replicates} with identical arms` : '') +
    ` (quick ${quickMs} ms, refined ${refinedMs} ms after the change)`);
}

// The scenario is not valid: no results are shown beside it; the message stands next to the
// control that was changed (and under the editor).
function invalid(message, notValid) {
  document.body.dataset.stage = 'invalid';
  $('results').classList.remove('stale');
  $('progress').hidden = true;
  showError(message);
  const first = String(message).split('\n')[0];
  if (state.lastKey) controlError(state.lastKey, first);
  const box = $('invalid');
  box.textContent = `No results: the scenario is not valid. ${first}`;
  box.hidden = false;
  $('pin').disabled = true;
  setStatus(notValid ? 'not valid: no results until it is' : 'error: ' + first);
}

function valid() {
  hideError();
  $('invalid').hidden = true;
  for (const e of document.querySelectorAll('.control.invalid')) {
    e.classList.remove('invalid');
    const m = e.querySelector('.control-error');
    m.hidden = true;
    m.textContent = '';
  }
}

function controlError(key, message) {
  const box = document.querySelector(`.control[data-key="${CSS.escape(key)}"]`);
  if (!box) return;
  box.classList.add('invalid');
  const m = box.querySelector('.control-error');
  m.textContent = message;
  m.hidden = false;
}

function showError(message) {
  const e = $('toml-error');
  e.textContent = message;
  e.hidden = false;
}

function hideError() {
  $('toml-error').hidden = true;
  $('toml-error').textContent = '';
}

// A cell: text, escaped.
const td = (x, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(x)}</td>`;
const pc = (x) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
// A table that scrolls sideways on a narrow screen: a region the keyboard can reach and scroll.
const wrap = (table) => `<div class="scroll" tabindex="0" role="region" aria-label="table, scrolls sideways">${table}</div>`;

function headline(r) {
  const s = r.summary;
  const monitored = r.power.some((t) => t.monitored);
  const nb = r.power.some((t) => t.never_better);
  let h = `<h2 id="headline">${esc(s.scenario)}: ${r.stage === 'quick' ? 'quick pass' : 'refined'}, ` +
    `${r.replicates} replicates, seed ${r.seed}</h2>`;
  h += `<p class="muted">Equals <code id="command">${esc(r.command)}</code> on the downloaded file.</p>`;
  h += '<table id="power"><caption>' + (monitored
    ? 'Power: how often the trial shows the treatment better. For a monitored test, the design with its interim looks; beside it the same trial with one analysis at the cut.'
    : 'Power: how often the trial shows the treatment better.') + '</caption><thead><tr><th>test</th>' +
    (monitored ? '<th>power, monitored design</th><th>power without interim looks</th>' : '<th>power</th>') +
    (nb ? '<th>declares benefit where never better</th>' : '') +
    '<th>type I error (identical arms)</th></tr></thead><tbody>';
  for (const t of r.power) {
    const m = t.monitored;
    h += `<tr><th scope="row">${esc(t.words)} <code>${esc(t.test)}</code></th>`;
    if (monitored) {
      h += m ? `<td class="monitored-power" data-test="${esc(t.test)}" data-value="${m.value}">${esc(m.power)}</td>` : '<td>not monitored</td>';
    }
    h += `<td class="power" data-test="${esc(t.test)}" data-value="${t.value}">${esc(t.power)}</td>`;
    if (nb) h += t.never_better ? `<td class="never-better" data-test="${esc(t.test)}">${esc(t.never_better.rate)}</td>` : '<td>—</td>';
    h += `<td class="type-i" data-test="${esc(t.test)}">${t.type_i_error === null ? '<span class="muted">refining…</span>' : esc(t.type_i_error)}</td></tr>`;
  }
  return h + '</tbody></table>';
}

// Stopping probabilities by look and reason under the stopping plot (monitored scenarios).
function stopping(s) {
  const m = s.monitoring;
  if (!m || !m.by_test) return '';
  let h = '<table id="stopping"><caption>Stopping probabilities by look and reason (share of all trials)</caption>' +
    '<thead><tr><th>test</th><th>look</th><th>skipped</th><th>stopped for benefit</th><th>for futility</th><th>for harm</th></tr></thead><tbody>';
  for (const t of Object.values(m.by_test)) {
    for (const l of t.looks) {
      const look = l.kind === 'final' ? 'final analysis' : `interim look ${l.look} (${l.when})`;
      const skipped = l.kind === 'final' ? '—' : pc(l.skipped / s.replicates);
      h += `<tr>${td(t.test)}${td(look)}${td(skipped)}${td(pc(l.p_efficacy))}${td(pc(l.p_futility))}${td(l.p_harm === undefined ? '—' : pc(l.p_harm))}</tr>`;
    }
    h += `<tr>${td(t.test)}<td colspan="5">power of the monitored design ${esc(pc(t.power))}; without interim looks ${esc(pc(t.fixed_power))}; stopped by the safety rule ${esc(pc(t.stopped_by_safety))}</td></tr>`;
  }
  h += '</tbody></table>';
  if (Array.isArray(m.safety) && m.safety.length) {
    h += '<table id="safety"><caption>Safety rule: stops at each review</caption><thead><tr><th>review</th><th>after patients</th><th>stops if deaths ≥</th><th>stopped here</th></tr></thead><tbody>';
    for (const v of m.safety) h += `<tr>${td(v.review)}${td(v.patients)}${td(v.stop_if_at_least === null ? 'never' : v.stop_if_at_least)}${td(pc(v.p_stop))}</tr>`;
    h += '</tbody></table>';
  }
  return wrap(h);
}

function render(r) {
  const s = r.summary;
  state.result = r;
  document.body.dataset.stage = r.stage;
  $('results').classList.remove('stale');
  $('pin').disabled = false;
  $('plain').textContent = r.plain.join(' ');
  const dl = $('glossary-list');
  dl.textContent = '';
  for (const g of r.glossary) {
    const dt = document.createElement('dt');
    dt.textContent = g.word;
    const dd = document.createElement('dd');
    dd.textContent = g.meaning;
    dl.append(dt, dd);
  }
  let h = wrap(headline(r));
  const tr = s.truth || {};
  const c = s.crossing;
  if (c) {
    h += '<h2>Crossing</h2>' + wrap('<table><tbody>' +
      `<tr><th>true curves equal at</th><td>${esc((tr.crossing_times || []).map((x) => num(x, 2)).join(', ') || 'never')} ${esc(s.time_unit || '')}</td></tr>` +
      `<tr><th>rule on the true curves fires at</th><td>${num(c.rule_on_true_curves)}</td></tr>` +
      `<tr><th>observed crossing (this design)</th><td id="crossing-observed">${pctse(c.observed)}</td></tr>` +
      (c.null_observed ? `<tr><th>observed with identical arms</th><td>${pctse(c.null_observed)}</td></tr>` : '') +
      (c.time ? `<tr><th>observed crossing time, median (95% range)</th><td>${num(c.time.median)} (${num(c.time.q025)}–${num(c.time.q975)})</td></tr>` : '') +
      '</tbody></table>');
  }
  const d = s.shows && s.shows.detects;
  if (d && d.available) {
    h += '<h2>What a trial detects</h2>' + wrap('<table><tbody>' +
      [['neither', 'neither'], ['early_harm_only', 'early harm only'], ['late_benefit_only', 'late benefit only'], ['both', 'both']]
        .map(([k, label]) => `<tr><th>${label}</th><td>${pctse(d[k])}</td></tr>`).join('') +
      `</tbody></table>`) + `<p class="muted">${esc(d.method)}</p>`;
  }
  h += '<h2>Events and cut</h2>' + wrap('<table><tbody>' +
    `<tr><th>events: expected (truth) / mean simulated</th><td>${num(tr.expected_events_total, 1)} / ${num(s.events && s.events.mean, 1)}</td></tr>` +
    `<tr><th>analysis cut: expected / mean simulated</th><td>${num(tr.expected_cut, 2)} / ${num(s.estimates.cut && s.estimates.cut.mean, 2)}</td></tr>` +
    '</tbody></table>');
  const lt = tr.long_term;
  if (lt) {
    // The model's true gain to the horizon (no simulation): life-years on an endpoint of deaths.
    const time = (t) => `${Number(t.toFixed(2))} ${esc(s.time_unit || '')}`;
    let t = `<table id="long-term"><caption>Long-term benefit to ${time(lt.horizon)} (the model's truth)</caption><thead><tr><th>endpoint</th>`;
    for (const x of lt.times) t += `<th>gain by ${time(x)}</th>`;
    t += '<th>break-even</th></tr></thead><tbody>';
    for (const e of lt.endpoints) {
      t += `<tr><th>${esc(e.endpoint)}: ${esc(e.measure)}</th>`;
      for (const g of e.gain) t += `<td>${g > 0 ? '+' : ''}${num(g, 2)}</td>`;
      t += `<td>${e.break_even === null ? 'not by ' + time(lt.horizon) : time(e.break_even)}</td></tr>`;
    }
    h += '<h2>Long-term benefit</h2>' + wrap(t + '</tbody></table>') +
      '<p class="muted">Beyond the design\'s follow-up these values rest on the model\'s last hazard piece continuing.</p>';
  }
  const rows = Object.entries(s.estimates).filter(([k]) => k === 'rmst.diff' || k === 'rmst.ratio' || k === 'milestone.diff');
  if (rows.length) {
    h += '<h2>What the trials estimate</h2>' + wrap('<table><thead><tr><th>quantity</th><th>truth</th><th>mean estimate</th><th>95% of trials</th></tr></thead><tbody>' +
      rows.map(([k, e]) => `<tr><td><code>${esc(k)}</code></td><td>${num(e.truth, 4)}</td><td>${num(e.mean, 4)}</td><td>${num(e.q025, 3)} to ${num(e.q975, 3)}</td></tr>`).join('') +
      '</tbody></table>');
  }
  $('numbers').innerHTML = h;
  // The plots are this crate's own SVG (every text in them escaped by the renderer).
  $('survival').innerHTML = r.figures['survival.svg'] || '';
  $('long_term').innerHTML = r.figures['long_term.svg'] || '';
  $('monitoring').innerHTML = r.figures['monitoring.svg'] ? '<h2>Monitoring</h2>' + r.figures['monitoring.svg'] + stopping(s) : '';
  if (r.report) $('report').srcdoc = r.report;
  updateControls(r.controls);
  renderCompare();
}

// The headline numbers of a result, by row, for the comparison.
function headlineRows(r) {
  const s = r.summary;
  const rows = [];
  for (const t of r.power) {
    const p = t.monitored ? t.monitored.value : t.value;
    rows.push([`Power, ${t.words}${t.monitored ? ' (monitored design)' : ''}`, p]);
  }
  for (const t of r.power) if (t.never_better) rows.push([`Declares benefit where never better, ${t.words}`, t.never_better.value]);
  const tr = s.truth || {};
  const unit = s.time_unit || '';
  rows.push(['True curves cross at', (tr.crossing_times || []).length ? `${num(tr.crossing_times[0], 2)} ${unit}` : 'never']);
  const lt = tr.long_term;
  const primary = lt && lt.endpoints.find((e) => e.primary);
  if (primary) {
    const i = lt.times.length - 1;
    rows.push([`Gain by ${Number(lt.times[i].toFixed(2))} ${unit} (${primary.measure})`, `${primary.gain[i] > 0 ? '+' : ''}${num(primary.gain[i], 2)}`]);
    rows.push(['Break-even', primary.break_even === null ? 'not reached' : `${num(primary.break_even, 2)} ${unit}`]);
  }
  return rows.map(([k, v]) => [k, typeof v === 'number' ? pc(v) : v]);
}

// The settings that differ from the file as served, in words: "Risk of … = 20 %".
function describe(controls) {
  const changed = changes(controls);
  if (!changed.length) return 'the file as served';
  return changed.map(([key, shown]) => {
    const c = controls.find((x) => x.key === key);
    return `${c.label} ${shown}${c.unit ? ' ' + c.unit : ''}`;
  }).join('; ');
}

function changes(controls) {
  const out = [];
  for (const c of controls) {
    const was = state.initial.find((x) => x.key === c.key);
    if (was && was.shown !== c.shown) out.push([c.key, c.shown]);
  }
  return out;
}

function pin() {
  if (!state.result) return;
  state.pinned = { what: describe(state.result.controls), result: state.result };
  setStatus('pinned: change a setting to compare');
  renderCompare();
}

function renderCompare() {
  const box = $('compare');
  const p = state.pinned;
  const now = state.result;
  if (!p || !now) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.textContent = '';
  const h2 = document.createElement('h2');
  h2.textContent = 'Side by side';
  const unpin = document.createElement('button');
  unpin.type = 'button';
  unpin.textContent = 'Unpin';
  unpin.addEventListener('click', () => { state.pinned = null; renderCompare(); });
  const a = new Map(headlineRows(p.result));
  const b = new Map(headlineRows(now));
  const keys = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
  let t = `<table id="compare-table"><thead><tr><th></th><th scope="col">pinned: ${esc(p.what)}</th><th scope="col">now: ${esc(describe(now.controls))}</th></tr></thead><tbody>`;
  for (const k of keys) t += `<tr><th scope="row">${esc(k)}</th>${td(a.has(k) ? a.get(k) : '—', 'pinned')}${td(b.has(k) ? b.get(k) : '—', 'now')}</tr>`;
  const wrapper = document.createElement('div');
  wrapper.className = 'scroll';
  wrapper.tabIndex = 0;
  wrapper.setAttribute('role', 'region');
  wrapper.setAttribute('aria-label', 'comparison table, scrolls sideways');
  wrapper.innerHTML = t + '</tbody></table>';
  box.append(h2, unpin, wrapper, overlay(p.result, now));
}

const SVG = 'http://www.w3.org/2000/svg';
const ARM_COLOURS = ['#0072b2', '#d55e00'];

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// Both results' true survival curves in one plot: the pinned dashed, the current solid.
function overlay(pinned, now) {
  const fig = document.createElement('figure');
  const W = 760, H = 380, L = 56, R = 16, T = 28, B = 44;
  const all = [...pinned.curves, ...now.curves].flatMap((c) => c.points);
  const tmax = Math.max(...all.map((p) => p[0]));
  const ymin = Math.max(0, Math.floor((Math.min(...all.map((p) => p[1])) - 0.05) * 10) / 10);
  const x = (t) => L + (W - L - R) * t / tmax;
  const y = (v) => T + (H - T - B) * (1 - (v - ymin) / (1 - ymin));
  const title = `True ${now.endpoint} of both results: pinned dashed, now solid`;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, id: 'overlay' });
  svg.append(el('title', {}, title));
  svg.append(el('text', { x: W / 2, y: 18, 'text-anchor': 'middle', 'font-size': 15 }, title));
  for (let k = 0; k <= 5; k++) {
    const v = ymin + (1 - ymin) * k / 5;
    svg.append(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#d0d7de' }));
    svg.append(el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 12 }, v.toFixed(1)));
    const t = tmax * k / 5;
    svg.append(el('text', { x: x(t), y: H - B + 16, 'text-anchor': 'middle', 'font-size': 12 }, t.toFixed(1)));
  }
  svg.append(el('text', { x: (L + W - R) / 2, y: H - 8, 'text-anchor': 'middle', 'font-size': 12 }, `time from randomisation (${now.summary.time_unit || ''})`));
  const key = document.createElement('ul');
  key.className = 'overlay-key';
  for (const [which, res, dash] of [['pinned', pinned, '7 5'], ['now', now, '']]) {
    res.curves.forEach((c, g) => {
      const d = c.points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
      svg.append(el('path', { d, fill: 'none', stroke: ARM_COLOURS[g % 2], 'stroke-width': 2.5, 'stroke-dasharray': dash }));
      const li = document.createElement('li');
      const sample = el('svg', { viewBox: '0 0 32 10', 'aria-hidden': 'true' });
      sample.append(el('line', { x1: 0, x2: 32, y1: 5, y2: 5, stroke: ARM_COLOURS[g % 2], 'stroke-width': 3, 'stroke-dasharray': dash }));
      li.append(sample, document.createTextNode(`${c.arm}, ${which}`));
      key.append(li);
    });
  }
  fig.append(svg, key);
  return fig;
}

function sameKeys(a, b) {
  return a.length === b.length && a.every((c, i) => c.key === b[i].key && c.scale === b[i].scale && c.label === b[i].label);
}

function updateControls(controls) {
  if (!sameKeys(controls, state.controls)) {
    buildControls(controls);
    return;
  }
  state.controls = controls;
  for (const c of controls) {
    const box = document.querySelector(`.control[data-key="${CSS.escape(c.key)}"]`);
    if (!box || box.contains(document.activeElement)) continue;
    box.querySelector('input[type=range]').value = c.shown;
    box.querySelector('input[type=text]').value = c.shown;
  }
}

function buildControls(controls) {
  state.controls = controls;
  const root = $('controls');
  root.textContent = '';
  const groups = new Map();
  controls.forEach((c, i) => {
    if (!groups.has(c.group)) {
      const fs = document.createElement('fieldset');
      const lg = document.createElement('legend');
      lg.textContent = c.group;
      fs.appendChild(lg);
      root.appendChild(fs);
      groups.set(c.group, fs);
    }
    const box = document.createElement('div');
    box.className = 'control';
    box.dataset.key = c.key;
    box.dataset.scale = c.scale;
    const id = `c-${i}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = c.label;
    const inputs = document.createElement('div');
    inputs.className = 'inputs';
    const range = document.createElement('input');
    Object.assign(range, { type: 'range', min: c.shown_min, max: c.shown_max, step: c.shown_step });
    range.value = c.shown;
    range.setAttribute('aria-label', `${c.label} (slider${c.unit ? ', ' + c.unit : ''})`);
    const typed = document.createElement('input');
    Object.assign(typed, { type: 'text', id, inputMode: 'decimal', value: c.shown, autocomplete: 'off' });
    typed.setAttribute('aria-describedby', `${id}-unit ${id}-error`);
    const unit = document.createElement('span');
    unit.className = 'unit';
    unit.id = `${id}-unit`;
    unit.textContent = c.unit;
    inputs.append(range, typed, unit);
    const key = document.createElement('code');
    key.className = 'key';
    key.textContent = c.key;
    const error = document.createElement('p');
    error.className = 'control-error';
    error.id = `${id}-error`;
    error.setAttribute('role', 'alert');
    error.hidden = true;
    box.append(label, inputs, key, error);
    range.addEventListener('input', () => { typed.value = range.value; setValue(c.key, range.value); });
    typed.addEventListener('change', () => { range.value = typed.value; setValue(c.key, typed.value); });
    groups.get(c.group).appendChild(box);
  });
  const sel = $('curve-key');
  const previous = sel.value;
  sel.textContent = '';
  for (const c of controls) {
    const o = document.createElement('option');
    o.value = c.key;
    o.textContent = `${c.label} (${c.key})`;
    sel.appendChild(o);
  }
  if (controls.some((c) => c.key === previous)) sel.value = previous;
  curveDefaults();
}

// A control's number, as typed on its display scale, goes into the text (the server converts it
// exactly and edits the number in place, comments kept); while an edit is on its way, only the
// newest value waits.
let pendingEdit = null;
let editing = false;
async function setValue(key, shown) {
  pendingEdit = { key, shown: String(shown).trim(), at: performance.now() };
  if (editing) return;
  editing = true;
  while (pendingEdit) {
    const e = pendingEdit;
    pendingEdit = null;
    const c = state.controls.find((x) => x.key === e.key);
    if (!c) continue;
    state.lastKey = e.key;
    const resp = await post('/api/edit', { toml: $('toml').value, key: e.key, shown: e.shown, scale: c.scale })
      .catch((x) => ({ ok: false, json: async () => ({ error: String(x) }) }));
    const body = await resp.json();
    if (!resp.ok) {
      // What was typed is not a number: nothing is computed, and the results on screen are
      // not this value's.
      ++state.generation;
      if (state.controller) state.controller.abort();
      invalid(body.error, true);
      continue;
    }
    $('toml').value = body.toml;
    recompute(body.toml, e.at);
  }
  editing = false;
}

let typing = null;
function onType() {
  clearTimeout(typing);
  state.lastKey = null;
  typing = setTimeout(() => recompute($('toml').value), 350);
}

function curveDefaults() {
  const c = state.controls.find((x) => x.key === $('curve-key').value);
  if (!c) return;
  $('curve-from').value = c.min;
  $('curve-to').value = c.max;
}

let curveController = null;
async function drawCurve() {
  if (curveController) curveController.abort();
  curveController = new AbortController();
  const body = {
    toml: state.valid,
    key: $('curve-key').value,
    from: Number($('curve-from').value),
    to: Number($('curve-to').value),
    points: Number($('curve-points').value),
    channel: channel + '-curve',
  };
  $('curve-status').textContent = 'simulating…';
  const r = await compute('/api/curve', body, curveController.signal, (d, t) => {
    $('curve-status').textContent = `${Math.round((100 * d) / t)}%`;
  });
  if (r.cancelled) return;
  if (r.error) {
    $('curve-status').textContent = r.error;
    return;
  }
  const c = r.result;
  $('curve-status').textContent = `${c.replicates} replicates per point, seed ${c.seed} (common random numbers)`;
  let h = c.svg;
  let t = `<table id="curve-table"><thead><tr><th>${esc(c.key)}</th>` + c.tests.map((x) => `<th>${esc(x.test)}</th>`).join('') + '</tr></thead><tbody>';
  c.values.forEach((v, i) => {
    t += `<tr><td>${esc(v)}</td>` + c.tests.map((x) => `<td>${(100 * x.power[i]).toFixed(1)}% ± ${(100 * x.se[i]).toFixed(1)}</td>`).join('') + '</tr>';
  });
  h += wrap(t + '</tbody></table>');
  if (c.monitoring.length) {
    let m = '<h3>Stopping probabilities by look and reason</h3><table id="curve-monitoring"><thead><tr><th>value</th><th>test</th><th>look</th><th>efficacy</th><th>futility</th><th>harm</th></tr></thead><tbody>';
    for (const x of c.monitoring) {
      for (const l of x.looks) {
        m += `<tr><td>${esc(x.value)}</td><td>${esc(x.test)}</td><td>${esc(l.look)}</td>` +
          ['efficacy', 'futility', 'harm'].map((k) => `<td>${pc(l[k])}</td>`).join('') + '</tr>';
      }
      m += `<tr><td>${esc(x.value)}</td><td>${esc(x.test)}</td><td colspan="4">monitored power ${pc(x.power)}; stopped by the safety rule ${pc(x.safety)}</td></tr>`;
    }
    h += wrap(m + '</tbody></table>');
  }
  if (c.safety.length) {
    let m = '<h3>Safety rule: stops by review</h3><table id="curve-safety"><thead><tr><th>value</th>' +
      c.safety[0].stops.map((_, k) => `<th>review ${k + 1}</th>`).join('') + '</tr></thead><tbody>';
    for (const x of c.safety) m += `<tr><td>${esc(x.value)}</td>` + x.stops.map((v) => `<td>${pc(v)}</td>`).join('') + '</tr>';
    h += wrap(m + '</tbody></table>');
  }
  $('curve').innerHTML = h;
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A link to these settings: the changed numbers (key and shown value) in the address's fragment,
// which never reaches a server. It carries no token: opening it still needs the explorer's URL.
function share() {
  const edits = changes(state.controls);
  const hash = edits.length ? '#set=' + encodeURIComponent(JSON.stringify(edits)) : '';
  history.replaceState(null, '', location.pathname + hash);
  setStatus(edits.length ? `the address now links to ${edits.length} changed setting${edits.length > 1 ? 's' : ''}` : 'nothing changed from the file: the address is the plain page');
}

// A shared link's settings, read as data: only keys of this scenario's controls, only decimal
// numbers, at most SHARE_MAX_EDITS of them; shown, and applied only when the user clicks.
function sharedEdits() {
  const h = location.hash;
  if (!h.startsWith('#set=') || h.length > SHARE_MAX_CHARS) return [];
  let edits;
  try {
    edits = JSON.parse(decodeURIComponent(h.slice(5)));
  } catch (_) {
    return [];
  }
  if (!Array.isArray(edits)) return [];
  const out = [];
  for (const e of edits.slice(0, SHARE_MAX_EDITS)) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'string') continue;
    const c = state.initial.find((x) => x.key === e[0]);
    if (!c || e[1].length > 32 || !DECIMAL.test(e[1])) continue;
    out.push({ control: c, shown: e[1] });
  }
  return out;
}

function offerShared() {
  const edits = sharedEdits();
  if (!edits.length) return;
  $('shared-text').textContent = `This link changes ${edits.length} setting${edits.length > 1 ? 's' : ''} of ${state.file}:`;
  const list = $('shared-list');
  list.textContent = '';
  for (const e of edits) {
    const li = document.createElement('li');
    li.textContent = `${e.control.label}: ${e.shown}${e.control.unit ? ' ' + e.control.unit : ''}`;
    list.appendChild(li);
  }
  $('shared').hidden = false;
  $('shared-apply').onclick = async () => {
    $('shared').hidden = true;
    let text = $('toml').value;
    for (const e of edits) {
      const resp = await post('/api/edit', { toml: text, key: e.control.key, shown: e.shown, scale: e.control.scale });
      const body = await resp.json();
      if (!resp.ok) {
        state.lastKey = e.control.key;
        invalid(body.error, true);
        return;
      }
      text = body.toml;
    }
    $('toml').value = text;
    recompute(text);
  };
  $('shared-dismiss').onclick = () => { $('shared').hidden = true; };
}

async function start() {
  const resp = await fetch('/api/scenario', { credentials: 'same-origin' });
  if (!resp.ok) {
    setStatus((await resp.json()).error);
    return;
  }
  const s = await resp.json();
  state.file = s.file;
  state.initial = s.controls;
  $('file').textContent = s.file;
  $('toml').value = s.toml;
  buildControls(s.controls);
  $('toml').addEventListener('input', onType);
  $('curve-key').addEventListener('change', curveDefaults);
  $('curve-run').addEventListener('click', drawCurve);
  $('pin').addEventListener('click', pin);
  $('share').addEventListener('click', share);
  $('show-keys').addEventListener('change', (e) => document.body.classList.toggle('show-keys', e.target.checked));
  $('download-toml').addEventListener('click', () => download(state.file, state.valid, 'application/toml'));
  $('download-report').addEventListener('click', () => state.report && download('report.html', state.report, 'text/html'));
  offerShared();
  window.addEventListener('hashchange', offerShared);
  recompute(s.toml);
}

start();
