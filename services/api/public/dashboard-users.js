// sigflow dashboard, the user panel: what a recommendation service reads about one user
// (profile and signals, GET /v1/users/...), the users the speed layer saw lately, and the curl
// request that returns the same data. Uses dashboard.js's helpers (api, el, fmt, $, clear).
'use strict';
/* global $, api, clear, el, fmt -- dashboard.js's helpers, called once it has loaded */
/* exported installUserPanel, recentUsersPanel -- called by dashboard.js */

const SIGNALS_SHOWN = 50;

/** The user ids of the speed layer's latest commits, as buttons that look them up. */
async function recentUsersPanel() {
  const box = $('recent-users');
  const { users } = await api('/v1/users/recent?limit=12');
  clear(box);
  for (const u of users) {
    const chip = el('button', { type: 'button', class: 'chip', 'data-user-id': u.userId, title: `last seen ${fmt.dateTime(u.seenAt)} UTC` }, u.userId);
    chip.addEventListener('click', () => showUser(u.userId));
    box.append(chip);
  }
  if (!users.length) box.append(el('span', { class: 'muted' }, 'none yet'));
}

/** `3 d`, `12 h`, `45 min`: a duration for people. */
function duration(ms) {
  if (ms % 86400000 === 0) return `${ms / 86400000} d`;
  if (ms % 3600000 === 0) return `${ms / 3600000} h`;
  return `${Math.round(ms / 60000)} min`;
}

function fact(name, field, value, raw) {
  return el('div', { class: 'fact', 'data-field': field, 'data-value': raw === undefined ? String(value) : String(raw) }, el('span', { class: 'muted' }, name), el('strong', {}, value));
}

function touchText(t) {
  return t ? `${t.type} ${t.channel} · ${t.campaign_id}/${t.ad_id} · ${fmt.dateTime(t.ts)} UTC` : 'none';
}

function profileFacts(p) {
  const latest = p.sessions[0];
  return el('div', { class: 'facts' },
    fact('engagement', 'engagement', fmt.num(p.engagement.score, 3), p.engagement.score),
    fact('half-life', 'half-life', duration(p.engagement.halfLifeMs), p.engagement.halfLifeMs),
    fact('sessions', 'sessions', fmt.int(p.sessions.length), p.sessions.length),
    fact('latest session', 'latest-session', latest ? `${fmt.dateTime(latest.start)} – ${fmt.time(latest.end)}, ${latest.events} events${latest.open ? ' (open)' : ''}` : 'none', latest ? latest.events : 0),
    fact('last touch', 'last-touch', touchText(p.lastTouch), p.lastTouch ? p.lastTouch.event_id : ''),
    fact('conversions', 'conversions', `${fmt.int(p.conversions.count)} · value ${fmt.num(p.conversions.value)}`, p.conversions.count),
    fact('last event', 'last-event', `${fmt.dateTime(p.lastEventAt)} UTC`, p.lastEventAt ?? ''),
    fact('traits', 'traits', Object.entries(p.traits || {}).map(([k, v]) => `${k}: ${v}`).join(' · ') || 'none', JSON.stringify(p.traits || {})),
  );
}

function signalRow(s) {
  // A custom event shows its name and properties (`key=value`).
  const properties = s.properties ? Object.entries(s.properties).map(([k, v]) => `${k}=${v}`).join(' ') : '';
  const where = [s.name, s.channel, s.campaign_id, s.ad_id, s.page_id, s.element_id, properties].filter(Boolean).join(' · ');
  const validity = s.invalid ? el('span', { class: 'invalid', 'data-reason': s.reason || '' }, `invalid: ${s.reason}`) : el('span', { class: 'muted' }, 'valid');
  // Whose verdict it carries: the batch layer's once a recompute of its hour reviewed it.
  const source = s.source === 'batch' ? el('span', { class: 'muted', title: 'verdict corrected by the batch layer' }, ' · batch') : '';
  return el('tr', { 'data-event-id': s.event_id, 'data-invalid': String(s.invalid), 'data-source': s.source || 'speed', 'data-type': s.type, 'data-name': s.name || '' },
    el('td', {}, fmt.dateTime(s.ts)),
    el('td', {}, s.type),
    el('td', {}, where),
    el('td', { class: 'num' }, s.value === undefined ? '' : fmt.num(s.value)),
    el('td', {}, validity, s.late ? el('span', { class: 'late' }, ' late') : '', source),
  );
}

function signalsTable(answer) {
  const table = el('table', { id: 'user-signals', class: 'table', 'data-count': String(answer.count) },
    el('thead', {}, el('tr', {}, ...['time (UTC)', 'type', 'event / campaign / channel / page', 'value', 'validity'].map((h) => el('th', {}, h)))));
  const body = el('tbody');
  for (const s of answer.signals) body.append(signalRow(s));
  if (!answer.signals.length) body.append(el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'no signals')));
  table.append(body);
  return table;
}

/** The requests a service makes for the same data, with the role they need. */
function curlOf(paths, role) {
  const lines = paths.map((p) => `curl -s -H "x-api-key: $SIGFLOW_API_KEY" '${location.origin}${p}'`);
  return el('div', { class: 'curl' },
    el('div', { class: 'muted' }, `the same data from the API (needs role reader or above; this page's key has role ${role}):`),
    el('pre', { id: 'user-curl' }, lines.join('\n')));
}

let shownUser = null;

/** Looks a user up and draws the profile, segments, signals (invalid ones included) and the curl. */
async function showUser(userId) {
  shownUser = userId;
  $('user-id').value = userId;
  const box = $('user-result');
  box.dataset.state = 'loading';
  const enc = encodeURIComponent(userId);
  const paths = [`/v1/users/${enc}/profile`, `/v1/users/${enc}/signals?includeInvalid=true&limit=${SIGNALS_SHOWN}`];
  try {
    const [profile, signals, status] = await Promise.all([api(paths[0]), api(paths[1]), api('/v1/status')]);
    if (shownUser !== userId) return; // another lookup started meanwhile
    clear(box);
    box.append(
      el('h3', {}, `user ${userId}`, profile.known ? '' : el('span', { class: 'muted' }, ' (the speed layer holds nothing for this id)')),
      profileFacts(profile),
      el('div', { class: 'muted', id: 'user-segments' }, 'segments: none (segment rules are not part of this version)'),
      el('h4', {}, `latest signals, newest first (${signals.count} shown, invalid traffic marked by reason, verdicts the batch layer corrected marked batch)`),
      signalsTable(signals),
      curlOf(paths, status.role),
    );
    box.dataset.userId = userId;
    box.dataset.state = 'ready';
  } catch (err) {
    clear(box);
    box.append(el('p', { class: 'error' }, `error: ${err.message}`));
    box.dataset.state = 'error';
  }
}

/** Wires the lookup form (dashboard.js calls it once the helpers exist). */
function installUserPanel() {
  $('user-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const userId = $('user-id').value.trim();
    if (userId) showUser(userId);
  });
}
