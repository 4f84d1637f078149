// What surrounds the pack: its vehicle's CAN signals and its events, the fences it is held
// to, its alarms and the moves between operators and stores.
import { api, apiPage } from '../../api.js';
import { byId, fill, h } from '../../dom.js';
import { formatNumber, formatTime, t } from '../../i18n.js';
import { dataTable } from '../../table.js';

const HOUR = 3600 * 1000;

function severity(level) {
  const words = {
    info: t('device.severity.info'),
    warning: t('device.severity.warning'),
    critical: t('device.severity.critical'),
  };
  if (!level) return '—';
  const kind = { warning: 'warn', critical: 'bad', info: 'info' }[level] || '';
  return h('span', { class: `badge ${kind}` }, words[level] || level);
}

function value(v) {
  if (typeof v === 'number') return formatNumber(v, Number.isInteger(v) ? 0 : 2);
  if (typeof v === 'boolean') return v ? t('device.yes') : t('device.no');
  return v === null || v === undefined ? '—' : String(v);
}

/** The latest CAN signals (from the state) with their range over the last hour. */
export async function showCan(deviceId, state) {
  const to = new Date();
  const answer = await api(`/devices/${encodeURIComponent(deviceId)}/can`, {
    query: { from: new Date(to - HOUR).toISOString(), to: to.toISOString(), bucket: '300s' },
  });
  const ranges = {};
  for (const bucket of answer.buckets || []) {
    for (const [name, stats] of Object.entries(bucket.signals || {})) {
      const range = (ranges[name] ||= { min: stats.min, max: stats.max });
      range.min = Math.min(range.min, stats.min);
      range.max = Math.max(range.max, stats.max);
    }
  }
  const latest = state.vehicle_signals || {};
  const names = [...new Set([...Object.keys(latest), ...Object.keys(ranges)])].sort();
  byId('can-time').textContent = state.vehicle_time ? t('device.can_time', { time: formatTime(state.vehicle_time) }) : '';
  fill(
    byId('can-table'),
    dataTable({
      caption: t('device.can'),
      columns: [
        { label: t('device.col.signal'), cell: (n) => h('code', {}, n) },
        { label: t('device.col.latest'), cell: (n) => value(latest[n]), num: true },
        { label: t('device.col.hour_min'), cell: (n) => value(ranges[n]?.min), num: true },
        { label: t('device.col.hour_max'), cell: (n) => value(ranges[n]?.max), num: true },
      ],
      rows: names,
      empty: t('device.no_can'),
    }),
  );
}

/** The device's events of the last day, newest first. */
export async function showEvents(deviceId) {
  const to = new Date();
  const answer = await api(`/devices/${encodeURIComponent(deviceId)}/events`, {
    query: { from: new Date(to - 24 * HOUR).toISOString(), to: to.toISOString() },
  });
  const rows = (answer.rows || []).slice(-50).reverse();
  fill(
    byId('event-table'),
    dataTable({
      caption: t('device.events'),
      columns: [
        { label: t('device.col.time'), cell: (e) => formatTime(e.time) },
        { label: t('device.col.type'), cell: (e) => h('code', {}, e.type) },
        { label: t('device.col.severity'), cell: (e) => severity(e.severity) },
        { label: t('device.col.detail'), cell: (e) => (e.detail ? h('code', { class: 'detail' }, JSON.stringify(e.detail)) : '') },
      ],
      rows,
      empty: t('device.no_events'),
    }),
  );
}

export function showFences(fences) {
  const kinds = { keep_in: t('device.fence.keep_in'), keep_out: t('device.fence.keep_out') };
  fill(
    byId('fence-table'),
    dataTable({
      caption: t('device.fences'),
      columns: [
        { label: t('device.col.name'), cell: (f) => f.name },
        { label: t('device.col.kind'), cell: (f) => kinds[f.kind] || f.kind },
        { label: t('device.col.action'), cell: (f) => f.action?.type || '—' },
      ],
      rows: fences,
      empty: t('device.no_fences'),
    }),
  );
}

/** The device's alarms, newest first (the first page). */
export async function showAlarms(deviceId) {
  const answer = await apiPage('/alarms', { device_id: deviceId, page_size: 20 });
  const states = { open: t('device.alarm.open'), resolved: t('device.alarm.resolved') };
  fill(
    byId('alarm-table'),
    dataTable({
      caption: t('device.alarms'),
      columns: [
        { label: t('device.col.latest_at'), cell: (a) => h('a', { href: `/alarms/${a.id}` }, formatTime(a.latest_at)) },
        { label: t('device.col.type'), cell: (a) => h('code', {}, a.type) },
        { label: t('device.col.severity'), cell: (a) => severity(a.severity) },
        { label: t('device.col.state'), cell: (a) => states[a.state] || a.state },
        { label: t('device.col.message'), cell: (a) => a.message || '' },
      ],
      rows: answer.items,
      href: (a) => `/alarms/${a.id}`,
      empty: t('device.no_alarms'),
    }),
  );
}

/**
 * Where the device was moved from and to; `names` learns and gives the names of operators
 * and stores (their numbers where the caller may not read them).
 */
export async function showTransfers(deviceId, names) {
  const rows = await api(`/devices/${encodeURIComponent(deviceId)}/transfers`);
  for (const move of rows) {
    await names.learn(move.from_operator_id, move.from_store_id);
    await names.learn(move.to_operator_id, move.to_store_id);
  }
  const where = (operatorId, storeId) => `${names.operator(operatorId)} / ${names.store(storeId)}`;
  fill(
    byId('transfer-table'),
    dataTable({
      caption: t('device.transfers'),
      columns: [
        { label: t('device.col.time'), cell: (m) => formatTime(m.moved_at) },
        { label: t('device.col.from'), cell: (m) => where(m.from_operator_id, m.from_store_id) },
        { label: t('device.col.to'), cell: (m) => where(m.to_operator_id, m.to_store_id) },
        { label: t('device.col.by'), cell: (m) => m.moved_by },
        { label: t('device.col.note'), cell: (m) => m.note || '' },
      ],
      rows,
      empty: t('device.no_transfers'),
    }),
  );
}
