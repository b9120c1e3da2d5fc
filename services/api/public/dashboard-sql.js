// sigflow dashboard, the SQL panel: an analyst's own SELECT over the archive, the batch views
// and reconciliation (POST /v1/sql, run in a sandboxed worker), with example queries, the
// answer as a table with its statistics, and a download in CSV, Parquet, Arrow IPC or JSON
// (the same query, asked with that format's Accept). The tables it may read come from
// GET /v1/sql/tables. Uses dashboard.js's helpers.
'use strict';
/* global $, api, apiKey, clear, el, fmt -- dashboard.js's helpers, called once it has loaded */
/* exported installSqlPanel, sqlTablesPanel -- called by dashboard.js */

const SQL_SHOWN_ROWS = 500;
const SQL_TYPES = { csv: 'text/csv', parquet: 'application/vnd.apache.parquet', arrow: 'application/vnd.apache.arrow.stream', json: 'application/json' };
const SQL_EXTENSIONS = { csv: 'csv', parquet: 'parquet', arrow: 'arrows', json: 'json' };

/** A SQL string literal of a value (quotes doubled). */
const sqlText = (value) => `'${String(value).replaceAll("'", "''")}'`;

const SQL_EXAMPLES = {
  reconciliation: () => [
    '-- speed vs batch per hour over from..to: what real time missed (late) or counted twice',
    'SELECT hour_start, epoch_ms(hour_start) AS hour,',
    '       sum(clicks_speed) AS clicks_speed, sum(clicks_batch) AS clicks_batch, sum(clicks_diff) AS clicks_diff,',
    '       sum(impressions_diff) AS impressions_diff, sum(late_events) AS late_events',
    'FROM reconciliation',
    'GROUP BY hour_start',
    'ORDER BY hour_start',
  ].join('\n'),
  ctr: () => [
    '-- campaigns by CTR as the batch layer corrected it (valid traffic only)',
    'SELECT campaign_id, sum(impressions) AS impressions, sum(clicks) AS clicks,',
    '       round(sum(clicks) / sum(impressions), 4) AS ctr, sum(invalid_clicks) AS invalid_clicks',
    'FROM batch_window_metrics',
    'GROUP BY campaign_id',
    'HAVING sum(impressions) > 0',
    'ORDER BY ctr DESC, campaign_id',
    'LIMIT 10',
  ].join('\n'),
  journey: () => [
    "-- one person's events in the archive, in event time (every archived copy)",
    'SELECT epoch_ms(ts) AS time, type, campaign_id, channel, page_id, element_id, value, event_id',
    'FROM events',
    `WHERE user_id = ${sqlText(($('user-id') && $('user-id').value.trim()) || 'u-000123')}`,
    'ORDER BY ts, event_id',
    'LIMIT 500',
  ].join('\n'),
};

/** The request of the panel's query (the range only bounds the tables read from Redis). */
function sqlRequest() {
  const body = { sql: $('sql-text').value };
  const from = $('sql-from').value.trim();
  const to = $('sql-to').value.trim();
  if (from) body.from = from;
  if (to) body.to = to;
  return body;
}

function showSqlError(message) {
  $('sql-error').textContent = message;
  $('sql-table').dataset.state = 'error';
}

function sqlCell(value) {
  return value === null ? el('span', { class: 'muted' }, 'NULL') : String(value);
}

/** The answer as a table (its first rows) and its statistics. */
function showSqlAnswer(answer) {
  const table = $('sql-table');
  clear(table.tHead);
  clear(table.tBodies[0]);
  table.tHead.append(el('tr', {}, ...answer.columns.map((c) => el('th', { title: c.type, 'data-type': c.type }, c.name))));
  for (const row of answer.rows.slice(0, SQL_SHOWN_ROWS)) table.tBodies[0].append(el('tr', {}, ...row.map((v) => el('td', { class: typeof v === 'number' ? 'num' : '' }, sqlCell(v)))));
  const s = answer.stats;
  const shown = answer.rowCount > SQL_SHOWN_ROWS ? ` (first ${SQL_SHOWN_ROWS} shown; download for all)` : '';
  $('sql-stats').textContent = `${fmt.int(answer.rowCount)} rows${shown} · ${fmt.int(s.rowsScanned)} rows scanned · ${fmt.int(s.filesRead)} files read · ${s.seconds} s`;
  table.dataset.rows = String(answer.rowCount);
  table.dataset.state = 'ready';
}

async function runSql() {
  $('sql-error').textContent = '';
  $('sql-stats').textContent = 'running…';
  $('sql-table').dataset.state = 'running';
  try {
    showSqlAnswer(await api('/v1/sql', sqlRequest()));
  } catch (err) {
    $('sql-stats').textContent = '';
    showSqlError(`${err.status || ''} ${err.message}`.trim());
  }
}

/** The same query in the chosen format, saved as a file. */
async function downloadSql() {
  const format = $('sql-format').value;
  $('sql-error').textContent = '';
  const res = await fetch('/v1/sql', {
    method: 'POST',
    cache: 'no-store',
    headers: { ...(apiKey ? { 'x-api-key': apiKey } : {}), 'content-type': 'application/json', accept: SQL_TYPES[format] },
    body: JSON.stringify(sqlRequest()),
  });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    return showSqlError(`${res.status} ${body.error || res.statusText}`);
  }
  const url = URL.createObjectURL(await res.blob());
  const link = el('a', { href: url, download: `sigflow-query.${SQL_EXTENSIONS[format]}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** The catalogue, once: each table and its columns (GET /v1/sql/tables). */
async function sqlTablesPanel() {
  const box = $('sql-tables');
  if (box.dataset.state === 'ready') return;
  const { tables, limits } = await api('/v1/sql/tables');
  clear(box);
  box.append(el('p', { class: 'muted' }, `at most ${fmt.int(limits.maxRows)} rows and ${limits.timeoutMs / 1000} s a query, ${limits.queriesPerKey} at once per key`));
  for (const t of tables) {
    box.append(el('div', { class: 'sql-catalogue', 'data-table': t.name }, el('strong', {}, t.name), ` (${t.source}) `, el('span', { class: 'muted' }, t.description), el('div', { class: 'rule' }, t.columns.map((c) => `${c.name} ${c.type}`).join(', '))));
  }
  box.dataset.state = 'ready';
}

function installSqlPanel() {
  const text = $('sql-text');
  $('sql-example').addEventListener('change', (e) => {
    const example = SQL_EXAMPLES[e.target.value];
    if (example) text.value = example();
  });
  text.value = SQL_EXAMPLES.reconciliation();
  $('sql-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runSql();
  });
  $('sql-download').addEventListener('click', () => downloadSql().catch((err) => showSqlError(err.message)));
}
