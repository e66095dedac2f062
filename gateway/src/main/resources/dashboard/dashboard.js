// The Wharf dashboard: plain JavaScript over the gateway's API, with the reader's API key (kept in this tab's
// sessionStorage). The live job stream is read with fetch, not EventSource, so that the key goes in a header.
'use strict';

const KEY = 'wharf.key';
const MAX_JOBS = 100;
const $ = (selector) => document.querySelector(selector);
let streamAbort = null;
let charts = {};

function key() { return sessionStorage.getItem(KEY); }

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...(options.headers || {}), Authorization: 'Bearer ' + key() } });
  if (response.status === 401) {
    signOut('That key is not known (or was revoked).');
    throw new Error('unauthorized');
  }
  return response;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '-' : String(text);
  if (className) td.className = className;
  return td;
}

function bytes(n) {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
}

function jobLink(id) {
  const a = document.createElement('a');
  a.href = '#job/' + encodeURIComponent(id);
  a.textContent = id;
  const td = document.createElement('td');
  td.appendChild(a);
  return td;
}

// ---- jobs ---------------------------------------------------------------------------------------------

function showJob(state) {
  const body = $('#jobs tbody');
  let row = body.querySelector('tr[data-job="' + CSS.escape(state.jobId) + '"]');
  const fresh = !row;
  if (!row) {
    row = document.createElement('tr');
    row.dataset.job = state.jobId;
  }
  row.replaceChildren(jobLink(state.jobId), cell(state.function), cell(state.status, 'status status-' + state.status), cell(state.attempt),
    cell(state.updatedAt), cell(state.usage ? state.usage.cpuSeconds.toFixed(3) : null), cell(state.usage ? bytes(state.usage.peakMemoryBytes) : null));
  row.dataset.status = state.status;
  body.prepend(row); // most recently updated first
  if (fresh) {
    row.classList.add('fresh');
  }
  while (body.rows.length > MAX_JOBS) body.deleteRow(body.rows.length - 1);
}

async function loadJobs() {
  const jobs = (await (await api('/v1/jobs?limit=' + MAX_JOBS)).json()).jobs;
  $('#jobs tbody').replaceChildren();
  jobs.slice().reverse().forEach(showJob);
}

/** Reads server-sent events from a fetch response, calling onEvent(name, data) for each. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) onEvent(name, JSON.parse(data.join('\n')));
    }
  }
}

async function follow() {
  streamAbort = new AbortController();
  try {
    const response = await api('/v1/jobs/stream', { signal: streamAbort.signal });
    $('#stream-state').textContent = 'live';
    await readEvents(response, (name, state) => { if (name === 'job') showJob(state); });
  } catch (e) {
    if (e.name === 'AbortError' || !key()) return;
  }
  $('#stream-state').textContent = 'reconnecting';
  setTimeout(() => { if (key()) { loadJobs().then(follow); } }, 1000);
}

// ---- functions, schedules, dead letters ---------------------------------------------------------------

async function loadFunctions() {
  const functions = (await (await api('/v1/functions')).json()).functions;
  $('#functions tbody').replaceChildren(...functions.map((f) => {
    const row = document.createElement('tr');
    const rate = f.rateLimit ? f.rateLimit.perSecond + '/s, burst ' + f.rateLimit.burst : null;
    row.append(cell(f.name), cell(f.tenant), cell(f.image), cell(f.imageDigest), cell(f.memoryMb + ' MiB'), cell(f.cpus),
      cell(f.timeoutMillis + ' ms'), cell(rate), cell(f.maxConcurrency), cell(f.pool));
    return row;
  }));
}

async function loadSchedules() {
  const schedules = (await (await api('/v1/schedules')).json()).schedules;
  $('#schedules tbody').replaceChildren(...schedules.map((s) => {
    const row = document.createElement('tr');
    const when = s.cron ? 'cron ' + s.cron : s.everyMillis ? 'every ' + s.everyMillis + ' ms' : 'at ' + s.at;
    row.append(cell(s.id), cell(s.function), cell(when), cell(s.nextRun), cell(s.paused));
    return row;
  }));
}

async function loadDeadLetters() {
  const response = await api('/v1/dlq?limit=50');
  if (response.status === 403) {
    $('#dlq-note').textContent = 'Dead letters hold every tenant\'s records: an admin key reads and replays them.';
    return;
  }
  const letters = (await response.json()).deadLetters;
  $('#dlq tbody').replaceChildren(...letters.map((l) => {
    const row = document.createElement('tr');
    row.dataset.letter = l.id;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'replay';
    button.textContent = 'Replay';
    button.disabled = !l.replayable;
    button.addEventListener('click', () => replay(l.id, row, button));
    const action = document.createElement('td');
    action.appendChild(button);
    row.append(cell(l.id), cell(l.function), cell(l.status), cell(l.reason), cell(l.at), action);
    return row;
  }));
}

async function replay(id, row, button) {
  button.disabled = true;
  const response = await api('/v1/dlq/' + encodeURIComponent(id) + '/replay', { method: 'POST' });
  const body = await response.json();
  button.textContent = response.ok ? 'Replayed' : 'Refused';
  row.title = body.message;
  row.dataset.replayed = response.ok;
}

// ---- charts -------------------------------------------------------------------------------------------

function chart(id, title, names, series, data, scale) {
  const options = {
    width: 520, height: 240,
    scales: { x: { time: false }, y: scale || {} },
    axes: [{ values: (u, ticks) => ticks.map((t) => names[t] || '') , space: 60 }, {}],
    series: [{ label: 'function', value: (u, v) => names[v] || '' }, ...series],
  };
  if (charts[id]) charts[id].destroy();
  charts[id] = new uPlot(options, data, $(id));
}

async function loadStats() {
  const stats = (await (await api('/v1/stats')).json()).functions;
  const names = stats.map((s) => s.function);
  const x = stats.map((s, i) => i);
  const bars = uPlot.paths.bars({ size: [0.6, 60] });
  chart('#ratio-chart', 'success ratio', names, [{ label: 'success ratio', stroke: '#1a7f37', fill: '#1a7f3755', paths: bars }],
    [x, stats.map((s) => s.successRatio)], { range: [0, 1] });
  chart('#lifetime-chart', 'lifetime', names, [
    { label: 'p50', stroke: '#0969da', points: { show: true } },
    { label: 'p90', stroke: '#9a6700', points: { show: true } },
    { label: 'p99', stroke: '#cf222e', points: { show: true } }],
    [x, stats.map((s) => s.lifetimeMs.p50), stats.map((s) => s.lifetimeMs.p90), stats.map((s) => s.lifetimeMs.p99)]);
}

// ---- a job's page -------------------------------------------------------------------------------------

async function showJobPage(id) {
  $('#job-id').textContent = id;
  const response = await api('/v1/jobs/' + encodeURIComponent(id));
  const fields = $('#job-fields tbody');
  if (!response.ok) {
    fields.replaceChildren();
    $('#logs').textContent = (await response.json()).message;
    return;
  }
  const state = await response.json();
  fields.replaceChildren(...Object.entries(state).map(([name, value]) => {
    const row = document.createElement('tr');
    row.append(cell(name), cell(value !== null && typeof value === 'object' ? JSON.stringify(value) : value));
    return row;
  }));
  const logs = $('#logs');
  logs.replaceChildren();
  const lines = await api('/v1/jobs/' + encodeURIComponent(id) + '/logs');
  await readEvents(lines, (name, data) => {
    if (name === 'line') {
      const span = document.createElement('span');
      span.className = data.stream;
      span.textContent = data.line + '\n';
      logs.appendChild(span);
    }
  });
}

// ---- pages --------------------------------------------------------------------------------------------

let refresher = null;

async function route() {
  const signedIn = !!key();
  $('#login-view').hidden = signedIn;
  $('#nav').hidden = !signedIn;
  const job = location.hash.startsWith('#job/') ? decodeURIComponent(location.hash.slice(5)) : null;
  $('#overview').hidden = !signedIn || job !== null;
  $('#job-view').hidden = !signedIn || job === null;
  if (!signedIn) return;
  if (job !== null) {
    await showJobPage(job);
    return;
  }
  if (!streamAbort) {
    await loadJobs();
    follow();
  }
  const refresh = () => Promise.all([loadFunctions(), loadSchedules(), loadDeadLetters(), loadStats()]).catch(() => {});
  await refresh();
  clearInterval(refresher);
  refresher = setInterval(refresh, 5000);
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  if (streamAbort) streamAbort.abort();
  streamAbort = null;
  clearInterval(refresher);
  $('#login-error').textContent = message || '';
  route();
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $('#key').value.trim());
  $('#key').value = '';
  const check = await api('/v1/functions').catch(() => null);
  if (check && check.ok) {
    $('#login-error').textContent = '';
    route();
  }
});
$('#logout').addEventListener('click', () => signOut());
window.addEventListener('hashchange', route);
route();
