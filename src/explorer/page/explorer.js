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
  generation: 0,
  controller: null,
  changedAt: 0,     // when the user made the change being computed (performance.now())
};

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
    document.body.dataset.stage = 'invalid';
    showError(quick.error);
    $('results').classList.remove('stale');
    $('progress').hidden = true;
    setStatus(quick.status === 422 ? 'not valid: the last good results stay' : 'error: ' + quick.error);
    return;
  }
  hideError();
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

function showError(message) {
  const e = $('toml-error');
  e.textContent = message;
  e.hidden = false;
}

function hideError() {
  $('toml-error').hidden = true;
  $('toml-error').textContent = '';
}

function render(r) {
  const s = r.summary;
  document.body.dataset.stage = r.stage;
  $('results').classList.remove('stale');
  let h = `<h2 id="headline">${esc(s.scenario)}: ${r.stage === 'quick' ? 'quick pass' : 'refined'}, ` +
    `${r.replicates} replicates, seed ${r.seed}</h2>`;
  h += `<p class="muted">Equals <code id="command">${esc(r.command)}</code> on the downloaded file.</p>`;
  h += '<table id="power"><thead><tr><th>test</th><th>power</th><th>type I error (identical arms)</th></tr></thead><tbody>';
  for (const t of r.power) {
    h += `<tr><td><code>${esc(t.test)}</code></td><td class="power" data-test="${esc(t.test)}" data-value="${t.value}">${esc(t.power)}</td>` +
      `<td class="type-i" data-test="${esc(t.test)}">${t.type_i_error === null ? '<span class="muted">refining…</span>' : esc(t.type_i_error)}</td></tr>`;
  }
  h += '</tbody></table>';
  const tr = s.truth || {};
  const c = s.crossing;
  if (c) {
    h += '<h2>Crossing</h2><table><tbody>';
    h += `<tr><th>true curves equal at</th><td>${esc((tr.crossing_times || []).map((x) => num(x)).join(', ') || 'never')}</td></tr>`;
    h += `<tr><th>rule on the true curves fires at</th><td>${num(c.rule_on_true_curves)}</td></tr>`;
    h += `<tr><th>observed crossing (this design)</th><td id="crossing-observed">${pctse(c.observed)}</td></tr>`;
    if (c.null_observed) h += `<tr><th>observed with identical arms</th><td>${pctse(c.null_observed)}</td></tr>`;
    if (c.time) h += `<tr><th>observed crossing time, median (95% range)</th><td>${num(c.time.median)} (${num(c.time.q025)}–${num(c.time.q975)})</td></tr>`;
    h += '</tbody></table>';
  }
  const d = s.shows && s.shows.detects;
  if (d && d.available) {
    h += '<h2>What a trial detects</h2><table><tbody>';
    for (const [k, label] of [['neither', 'neither'], ['early_harm_only', 'early harm only'], ['late_benefit_only', 'late benefit only'], ['both', 'both']]) {
      h += `<tr><th>${label}</th><td>${pctse(d[k])}</td></tr>`;
    }
    h += `</tbody></table><p class="muted">${esc(d.method)}</p>`;
  }
  h += '<h2>Events and cut</h2><table><tbody>';
  h += `<tr><th>events: expected (truth) / mean simulated</th><td>${num(tr.expected_events_total, 1)} / ${num(s.events && s.events.mean, 1)}</td></tr>`;
  h += `<tr><th>analysis cut: expected / mean simulated</th><td>${num(tr.expected_cut, 2)} / ${num(s.estimates.cut && s.estimates.cut.mean, 2)}</td></tr>`;
  h += '</tbody></table>';
  const lt = tr.long_term;
  if (lt) {
    // The model's true gain to the horizon (no simulation): life-years on an endpoint of deaths.
    h += `<h2>Long-term benefit to ${Number(lt.horizon.toFixed(2))} ${esc(s.time_unit || '')} (truth)</h2><table><thead><tr><th>endpoint</th>`;
    // Times as the scenario gives them (12.5 stays 12.5), with the unit.
    const time = (t) => `${Number(t.toFixed(2))} ${esc(s.time_unit || '')}`;
    for (const t of lt.times) h += `<th>gain by ${time(t)}</th>`;
    h += '<th>break-even</th></tr></thead><tbody>';
    for (const e of lt.endpoints) {
      h += `<tr><th>${esc(e.endpoint)}: ${esc(e.measure)}</th>`;
      for (const g of e.gain) h += `<td>${g > 0 ? '+' : ''}${num(g, 2)}</td>`;
      h += `<td>${e.break_even === null ? 'not by ' + time(lt.horizon) : time(e.break_even)}</td></tr>`;
    }
    h += '</tbody></table><p class="muted">Beyond the design\'s follow-up these values rest on the model\'s last hazard piece continuing.</p>';
  }
  const mon = s.monitoring && s.monitoring.by_test;
  if (mon) {
    // Interim looks some trials never take (at or after the final cut, or too little new
    // information): a planner's look schedule is not what every trial does.
    const tests = Object.values(mon);
    const interims = tests.length ? tests[0].looks.length - 1 : 0;
    if (interims > 0) {
      h += '<h2>Interim looks skipped</h2><table id="skipped-looks"><thead><tr><th>test</th>';
      for (let k = 0; k < interims; k++) h += `<th>look ${k + 1}</th>`;
      h += '</tr></thead><tbody>';
      for (const t of tests) {
        h += `<tr><th>${esc(t.test)}</th>`;
        for (let k = 0; k < interims; k++) h += `<td>${(100 * t.looks[k].skipped / s.replicates).toFixed(1)}% of trials</td>`;
        h += '</tr>';
      }
      h += '</tbody></table>';
    }
  }
  const rows = Object.entries(s.estimates).filter(([k]) => k === 'rmst.diff' || k === 'rmst.ratio' || k === 'milestone.diff');
  if (rows.length) {
    h += '<h2>Long-term benefit</h2><table><thead><tr><th>quantity</th><th>truth</th><th>mean estimate</th><th>95% of trials</th></tr></thead><tbody>';
    for (const [k, e] of rows) h += `<tr><td><code>${esc(k)}</code></td><td>${num(e.truth, 4)}</td><td>${num(e.mean, 4)}</td><td>${num(e.q025, 3)} to ${num(e.q975, 3)}</td></tr>`;
    h += '</tbody></table>';
  }
  $('numbers').innerHTML = h;
  $('survival').innerHTML = r.figures['survival.svg'] || '';
  $('long_term').innerHTML = r.figures['long_term.svg'] || '';
  $('monitoring').innerHTML = r.figures['monitoring.svg'] ? '<h2>Monitoring</h2>' + r.figures['monitoring.svg'] : '';
  if (r.report) $('report').srcdoc = r.report;
  updateControls(r.controls);
}

function sameKeys(a, b) {
  return a.length === b.length && a.every((c, i) => c.key === b[i].key);
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
    box.querySelector('input[type=range]').value = c.value;
    box.querySelector('input[type=number]').value = c.value;
  }
}

function buildControls(controls) {
  state.controls = controls;
  const root = $('controls');
  root.textContent = '';
  const groups = new Map();
  for (const c of controls) {
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
    const id = 'c-' + c.key.replace(/[^A-Za-z0-9]/g, '_');
    box.innerHTML = `<label for="${id}">${esc(c.label)}<code>${esc(c.key)}</code></label>` +
      `<input id="${id}" type="range" min="${c.min}" max="${c.max}" step="${c.step}" value="${c.value}">` +
      `<input type="number" min="${c.min}" max="${c.max}" step="${c.step}" value="${c.value}" aria-label="${esc(c.key)}">`;
    const [range, box2] = box.querySelectorAll('input');
    range.addEventListener('input', () => { box2.value = range.value; setValue(c.key, Number(range.value)); });
    box2.addEventListener('change', () => { range.value = box2.value; setValue(c.key, Number(box2.value)); });
    groups.get(c.group).appendChild(box);
  }
  const sel = $('curve-key');
  const previous = sel.value;
  sel.textContent = '';
  for (const c of controls) {
    const o = document.createElement('option');
    o.value = c.key;
    o.textContent = c.key;
    sel.appendChild(o);
  }
  if (controls.some((c) => c.key === previous)) sel.value = previous;
  curveDefaults();
}

// A slider's value goes into the text (the server edits the number in place, comments kept);
// while an edit is on its way, only the newest value waits.
let pendingEdit = null;
let editing = false;
async function setValue(key, value) {
  pendingEdit = { key, value, at: performance.now() };
  if (editing) return;
  editing = true;
  while (pendingEdit) {
    const e = pendingEdit;
    pendingEdit = null;
    const resp = await post('/api/edit', { toml: $('toml').value, key: e.key, value: e.value }).catch((x) => ({ ok: false, json: async () => ({ error: String(x) }) }));
    const body = await resp.json();
    if (!resp.ok) {
      showError(body.error);
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
  h += `<table id="curve-table"><thead><tr><th>${esc(c.key)}</th>` + c.tests.map((t) => `<th>${esc(t.test)}</th>`).join('') + '</tr></thead><tbody>';
  c.values.forEach((v, i) => {
    h += `<tr><td>${v}</td>` + c.tests.map((t) => `<td>${(100 * t.power[i]).toFixed(1)}% ± ${(100 * t.se[i]).toFixed(1)}</td>`).join('') + '</tr>';
  });
  h += '</tbody></table>';
  const pc = (x) => `${(100 * x).toFixed(1)}%`;
  if (c.monitoring.length) {
    h += '<h3>Stopping probabilities by look and reason</h3><table id="curve-monitoring"><thead><tr><th>value</th><th>test</th><th>look</th><th>efficacy</th><th>futility</th><th>harm</th></tr></thead><tbody>';
    for (const m of c.monitoring) {
      for (const l of m.looks) {
        h += `<tr><td>${m.value}</td><td>${esc(m.test)}</td><td>${l.look}</td>` +
          ['efficacy', 'futility', 'harm'].map((k) => `<td>${pc(l[k])}</td>`).join('') + '</tr>';
      }
      h += `<tr><td>${m.value}</td><td>${esc(m.test)}</td><td colspan="4">monitored power ${pc(m.power)}; stopped by the safety rule ${pc(m.safety)}</td></tr>`;
    }
    h += '</tbody></table>';
  }
  if (c.safety.length) {
    h += '<h3>Safety rule: stops by review</h3><table id="curve-safety"><thead><tr><th>value</th>' +
      c.safety[0].stops.map((_, k) => `<th>review ${k + 1}</th>`).join('') + '</tr></thead><tbody>';
    for (const r of c.safety) h += `<tr><td>${r.value}</td>` + r.stops.map((x) => `<td>${pc(x)}</td>`).join('') + '</tr>';
    h += '</tbody></table>';
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

async function start() {
  const resp = await fetch('/api/scenario', { credentials: 'same-origin' });
  if (!resp.ok) {
    setStatus((await resp.json()).error);
    return;
  }
  const s = await resp.json();
  state.file = s.file;
  $('file').textContent = s.file;
  $('toml').value = s.toml;
  buildControls(s.controls);
  $('toml').addEventListener('input', onType);
  $('curve-key').addEventListener('change', curveDefaults);
  $('curve-run').addEventListener('click', drawCurve);
  $('download-toml').addEventListener('click', () => download(state.file, state.valid, 'application/toml'));
  $('download-report').addEventListener('click', () => state.report && download('report.html', state.report, 'text/html'));
  recompute(s.toml);
}

start();
