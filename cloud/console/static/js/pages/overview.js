// The fleet at a glance: connectivity, charge state, discharge cut off and SOC bands from
// GET /api/fleet/summary, open alarms by severity (the totals of GET /api/alarms), and the
// devices of each store. Plain numbers with a bar each.
import { api, apiAll, apiPage } from '../api.js';
import { byId, fill, h } from '../dom.js';
import { formatClock, formatNumber, t } from '../i18n.js';
import { may, notify, run, start } from '../shell.js';

const SEVERITIES = ['critical', 'warning', 'info'];

/** A table of `rows` ([key, label, count, css class of the bar]), bars against `whole`. */
function counts(caption, rows, whole) {
  const body = rows.map(([key, label, count, kind]) => {
    const bar = h('span', { class: `bar-fill ${kind || ''}` });
    bar.style.width = `${whole > 0 ? Math.round((count / whole) * 1000) / 10 : 0}%`;
    return h(
      'tr',
      { dataset: { key } },
      h('th', { scope: 'row' }, label),
      h('td', { class: 'num' }, formatNumber(count)),
      h('td', { class: 'bar-cell' }, h('span', { class: 'share-bar', 'aria-hidden': 'true' }, bar)),
    );
  });
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, t('overview.what')),
    h('th', { scope: 'col', class: 'num' }, t('overview.count')),
    h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('overview.share'))),
  );
  return h(
    'table',
    { class: 'counts' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, head),
    h('tbody', {}, body),
  );
}

function place(id, table) {
  const box = byId(id);
  box.classList.remove('loading');
  fill(box, table);
}

function showSummary(summary) {
  const total = summary.total;
  byId('overview-total').textContent = t('overview.total', { n: formatNumber(total) });
  place(
    'ov-connectivity',
    counts(t('overview.connectivity'), [
      ['online', t('overview.online'), summary.online, 'ok'],
      ['offline', t('overview.offline'), summary.offline, 'off'],
      ['never_seen', t('overview.never_seen'), summary.never_seen, 'off'],
    ], total),
  );
  const state = summary.by_state;
  place(
    'ov-state',
    counts(t('overview.state'), [
      ['charging', t('overview.charging'), state.charging, 'info'],
      ['discharging', t('overview.discharging'), state.discharging, 'ok'],
      ['idle', t('overview.idle'), state.idle, 'off'],
      ['no_bms_data', t('overview.no_bms_data'), state.no_bms_data, 'off'],
      ['discharge_mos_off', t('overview.cut_off'), summary.discharge_mos_off, 'bad'],
    ], total),
  );
  const soc = summary.soc_bands;
  place(
    'ov-soc',
    counts(t('overview.soc'), [
      ['below_20', t('overview.soc_below_20'), soc['<20'], 'bad'],
      ['from_20_to_50', t('overview.soc_20_50'), soc['20-50'], 'warn'],
      ['from_50_to_80', t('overview.soc_50_80'), soc['50-80'], 'ok'],
      ['from_80', t('overview.soc_80'), soc['>=80'], 'ok'],
    ], total),
  );
}

async function showAlarms() {
  // One page of one alarm per severity: the X-Pagination total is the count.
  const totals = await Promise.all(
    SEVERITIES.map((severity) =>
      apiPage('/alarms', { state: 'open', severity, include_muted: true, page_size: 1 }).then((p) => p.total),
    ),
  );
  const labels = { critical: t('overview.critical'), warning: t('overview.warning'), info: t('overview.info') };
  const kinds = { critical: 'bad', warning: 'warn', info: 'info' };
  const rows = SEVERITIES.map((severity, i) => [severity, labels[severity], totals[i], kinds[severity]]);
  place('ov-alarms', counts(t('overview.alarms'), rows, Math.max(1, ...totals)));
}

async function showStores() {
  const stores = await apiAll('/stores');
  const rows = stores
    .map((store) => [String(store.id), store.name, store.device_count, 'info'])
    .sort((a, b) => b[2] - a[2] || a[1].localeCompare(b[1]));
  const most = Math.max(1, ...rows.map((row) => row[2]));
  const box = byId('ov-stores');
  if (!rows.length) {
    box.classList.remove('loading');
    fill(box, h('p', { class: 'hint' }, t('overview.no_stores')));
  } else place('ov-stores', counts(t('overview.stores'), rows, most));
}

run(async () => {
  const who = await start({ needs: 'device.read' });
  byId('ov-alarms-card').hidden = !may(who, 'alarm.read');
  byId('ov-stores-card').hidden = !may(who, 'store.read');
  async function load() {
    const jobs = [api('/fleet/summary').then(showSummary)];
    if (may(who, 'alarm.read')) jobs.push(showAlarms());
    if (may(who, 'store.read')) jobs.push(showStores());
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) notify(failed.reason?.message || String(failed.reason));
    byId('overview-updated').textContent = t('overview.updated', { at: formatClock(new Date()) });
  }
  byId('overview-refresh').addEventListener('click', load);
  await load();
});
