// sigflow dashboard, the ops panel: reprocess a range (with a preview of the hours and archived
// rows it covers) and train the attribution models, both through the API's job routes; a live
// view of the job started here; the job list with outcomes and a retry for failed jobs; the job
// schedulers and their next runs. Only an ops key sees the controls. Uses dashboard.js's helpers.
'use strict';
/* global $, api, clear, el, fmt, loop -- dashboard.js's helpers, called once it has loaded */
/* exported installOpsPanel, jobsPanel -- called by dashboard.js */

const WATCH_MS = 250;

/** `1/2 h · 14,923 rows read · 55%` from a job's progress (an object, or a bare percentage). */
function progressText(progress) {
  if (typeof progress === 'number') return `${Math.round(progress)}%`;
  if (!progress || typeof progress !== 'object') return '';
  const parts = [];
  if (typeof progress.hoursTotal === 'number') parts.push(`${progress.hoursDone}/${progress.hoursTotal} h`);
  if (typeof progress.rowsRead === 'number') parts.push(`${fmt.int(progress.rowsRead)} rows read`);
  if (typeof progress.percent === 'number') parts.push(`${progress.percent}%`);
  return parts.join(' · ');
}

function percentOf(progress) {
  if (typeof progress === 'number') return progress;
  return progress && typeof progress.percent === 'number' ? progress.percent : null;
}

/** What came of a job: its result in a few words, or why it failed. */
function outcomeText(job) {
  if (job.state === 'failed') return `failed: ${job.failedReason || 'no reason given'}`;
  const r = job.returnValue;
  if (job.state !== 'completed' || !r) return '';
  if (job.name === 'train-attribution') return `trained ${r.shapleyVersion} over ${fmt.dateTime(r.from)} – ${fmt.dateTime(r.to)} UTC: ${fmt.int(r.users)} users, ${fmt.int(r.convertedUsers)} converted, ${fmt.int(r.rowsRead)} rows read`;
  const hours = r.hours === undefined ? '' : `${r.hours} hour${r.hours === 1 ? '' : 's'} recomputed, `;
  return `${hours}${fmt.int(r.rowsRead)} rows read`;
}

function retryButton(job) {
  const button = el('button', { type: 'button', class: 'retry', 'data-job-id': job.id }, 'Retry');
  button.addEventListener('click', () => retryJob(job.id));
  return button;
}

function jobRow(j) {
  const pct = percentOf(j.progress);
  const bar = el('div', { class: 'progress', title: JSON.stringify(j.progress) }, el('div', { width: `${pct ?? 0}%` }));
  return el('tr', { 'data-job-id': j.id, 'data-state': j.state, 'data-name': j.name },
    el('td', {}, j.id),
    el('td', {}, j.name),
    el('td', {}, j.state),
    el('td', {}, bar, ` ${progressText(j.progress)}`),
    el('td', { class: 'num' }, `${j.attemptsMade}/${j.attempts}`),
    el('td', {}, fmt.dateTime(j.createdAt)),
    el('td', { class: j.state === 'failed' ? 'error' : '' }, outcomeText(j), ' ', el('span', { class: 'muted' }, JSON.stringify(j.data))),
    el('td', {}, j.state === 'failed' ? retryButton(j) : ''),
  );
}

function scheduleRows(schedules) {
  const tbody = $('schedules-table').tBodies[0];
  clear(tbody);
  for (const s of schedules) {
    tbody.append(el('tr', { 'data-scheduler': s.id, 'data-next': String(s.next ?? '') },
      el('td', {}, s.id), el('td', {}, s.jobName), el('td', {}, s.pattern ? `cron ${s.pattern}${s.tz ? ` (${s.tz})` : ''}` : `every ${fmt.int(s.every)} ms`), el('td', {}, fmt.dateTime(s.next))));
  }
  if (!schedules.length) tbody.append(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'no schedules')));
}

/** The job list and the schedules; the controls only for an ops key. */
async function jobsPanel(role) {
  const tbody = $('jobs-table').tBodies[0];
  $('job-controls').hidden = role !== 'ops';
  if (role !== 'ops') {
    clear(tbody);
    tbody.append(el('tr', {}, el('td', { colspan: 8, class: 'muted' }, `the ${role} role cannot see jobs; open the dashboard with an ops key`)));
    clear($('schedules-table').tBodies[0]);
    return;
  }
  const [{ jobs }, { schedules }] = await Promise.all([api('/v1/jobs?limit=15&parts=false'), api('/v1/schedules')]);
  clear(tbody);
  for (const j of jobs) tbody.append(jobRow(j));
  if (!jobs.length) tbody.append(el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'no jobs')));
  scheduleRows(schedules);
}

// ---- the job started from this page, followed closely ----

let watched = null;

function drawLive(job) {
  const box = $('job-live');
  box.hidden = false;
  const p = job.progress && typeof job.progress === 'object' ? job.progress : {};
  Object.assign(box.dataset, {
    jobId: job.id, state: job.state, percent: String(percentOf(job.progress) ?? 0),
    hoursDone: String(p.hoursDone ?? ''), hoursTotal: String(p.hoursTotal ?? ''), rowsRead: String(p.rowsRead ?? ''),
  });
  clear(box);
  const pct = percentOf(job.progress) ?? 0;
  box.append(
    el('strong', {}, `job ${job.id} ${job.name}: ${job.state}`), ' ',
    el('div', { class: 'progress' }, el('div', { width: `${pct}%` })), ` ${progressText(job.progress)}`,
  );
  if (job.state === 'completed' || job.state === 'failed') {
    box.append(el('div', { class: job.state === 'failed' ? 'error outcome' : 'outcome' }, outcomeText(job), ' ', job.state === 'failed' ? retryButton(job) : ''));
  }
}

/** Polls one job every WATCH_MS until it ends, drawing its progress; then refreshes the page. */
async function watchJob(id) {
  watched = id;
  for (;;) {
    if (watched !== id) return;
    let job;
    try {
      job = await api(`/v1/jobs/${encodeURIComponent(id)}`);
    } catch (err) {
      $('job-live').textContent = `job ${id}: ${err.message}`;
      return;
    }
    drawLive(job);
    if (job.state === 'completed' || job.state === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
  }
  loop();
}

function showResult(node, text, ok) {
  node.textContent = text;
  node.className = ok ? 'muted' : 'error';
}

/** Ops: enqueue a recompute of [from, to) through the API, as `POST /v1/jobs/reprocess`. */
async function reprocess(event) {
  event.preventDefault();
  const result = $('reprocess-result');
  try {
    const job = await api('/v1/jobs/reprocess', { from: $('reprocess-from').value.trim(), to: $('reprocess-to').value.trim() });
    showResult(result, `job ${job.id} enqueued: recompute ${fmt.dateTime(job.data.from)} – ${fmt.dateTime(job.data.to)} UTC`, true);
    result.dataset.jobId = job.id;
    watchJob(job.id);
  } catch (err) {
    showResult(result, `error: ${err.message}`, false);
  }
}

/** Ops: enqueue a training (`POST /v1/jobs/train`); empty fields take the defaults. */
async function train(event) {
  event.preventDefault();
  const result = $('train-result');
  const body = {};
  for (const name of ['from', 'to']) {
    const value = $(`train-${name}`).value.trim();
    if (value) body[name] = /^\d+$/.test(value) ? Number(value) : value;
  }
  try {
    const job = await api('/v1/jobs/train', body);
    showResult(result, `job ${job.id} enqueued: train-attribution`, true);
    result.dataset.jobId = job.id;
    watchJob(job.id);
  } catch (err) {
    showResult(result, `error: ${err.message}`, false);
  }
}

async function retryJob(id) {
  try {
    await api(`/v1/jobs/${encodeURIComponent(id)}/retry`, {});
    watchJob(id);
  } catch (err) {
    $('job-live').hidden = false;
    $('job-live').textContent = `retry of job ${id}: ${err.message}`;
  }
}

// ---- what a reprocess would cover ----

let previewTimer = null;

async function previewReprocess() {
  const node = $('reprocess-preview');
  const from = $('reprocess-from').value.trim();
  const to = $('reprocess-to').value.trim();
  if (!from || !to) return showResult(node, '', true);
  try {
    const p = await api(`/v1/jobs/reprocess/preview?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    showResult(node, `covers ${p.hours} h (${fmt.dateTime(p.from)} – ${fmt.dateTime(p.to)} UTC), ${p.archivedHours} with archive files: ${fmt.int(p.rows)} archived rows in ${p.files} files`, true);
    Object.assign(node.dataset, { hours: String(p.hours), rows: String(p.rows), archivedHours: String(p.archivedHours) });
  } catch (err) {
    showResult(node, `preview: ${err.message}`, false);
  }
}

/** Wires the forms (dashboard.js calls it once the helpers exist). */
function installOpsPanel() {
  $('reprocess-form').addEventListener('submit', reprocess);
  $('train-form').addEventListener('submit', train);
  for (const id of ['reprocess-from', 'reprocess-to']) {
    $(id).addEventListener('input', () => {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(previewReprocess, 300);
    });
  }
}
