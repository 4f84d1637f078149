// One alarm: its facts, the signal around it (the alarm's moment marked, its thresholds as
// lines), its occurrences and lifecycle, and resolving it with a note.
import { api, apiPage } from '../api.js';
import { alarmTitle, severityBadge, stateBadge } from '../alarm_words.js';
import { timeChart } from '../chart.js';
import { byId, clearErrors, fill, h, showErrors } from '../dom.js';
import { formatNumber, formatTime, t } from '../i18n.js';
import { may, notify, run, start } from '../shell.js';
import { dataTable, pager } from '../table.js';

const alarmId = Number(location.pathname.split('/').pop());

const EVENTS = {
  raised: () => t('alarm.event.raised'),
  repeated: () => t('alarm.event.repeated'),
  cleared: () => t('alarm.event.cleared'),
  resolved: () => t('alarm.event.resolved'),
};

function measured(value, unit) {
  return value === null || value === undefined ? '—' : `${formatNumber(value, 2)} ${unit || ''}`.trim();
}

function facts(alarm) {
  const rows = [
    [t('alarms.col.device'), h('a', { href: `/devices/${encodeURIComponent(alarm.device_id)}` }, alarm.device_id)],
    [t('alarms.col.severity'), severityBadge(alarm.severity)],
    [t('alarms.col.state'), stateBadge(alarm)],
    [t('alarms.col.count'), formatNumber(alarm.count)],
    [t('alarms.col.first'), formatTime(alarm.first_at)],
    [t('alarms.col.latest'), formatTime(alarm.latest_at)],
    [t('alarm.value'), measured(alarm.value, alarm.unit)],
    [t('alarm.threshold'), measured(alarm.threshold, alarm.unit)],
    [t('alarm.cleared_at'), formatTime(alarm.cleared_at)],
    [t('alarm.message'), alarm.message || '—'],
  ];
  if (alarm.state === 'resolved') {
    rows.push(
      [t('alarm.resolved_at'), formatTime(alarm.resolved_at)],
      [t('alarm.resolved_by'), alarm.resolved_by || '—'],
      [t('alarm.note'), alarm.resolution_note || '—'],
    );
  }
  return rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]);
}

async function showCurve(alarm) {
  const note = byId('curve-note');
  let curve;
  try {
    curve = await api(`/alarms/${alarmId}/curve`);
  } catch (error) {
    if (error.status !== 409) throw error;
    note.textContent = t('alarm.curve_none');
    byId('curve').hidden = true;
    return;
  }
  if (curve.source === 'geofence' || !curve.points.length) {
    note.textContent = curve.positions?.length
      ? t('alarm.curve_positions', { n: curve.positions.length })
      : t('alarm.curve_empty');
    byId('curve').hidden = true;
    return;
  }
  const series = [{ label: curve.signal || alarm.type, unit: curve.unit, value: (row) => row.value }];
  if (curve.raise !== null) {
    series.push({ label: t('alarm.raise_line'), unit: curve.unit, value: () => curve.raise, colour: '#b91c1c' });
  }
  if (curve.clear !== null && curve.clear !== curve.raise) {
    series.push({ label: t('alarm.clear_line'), unit: curve.unit, value: () => curve.clear, colour: '#b45309' });
  }
  note.textContent = t('alarm.curve_help', { from: formatTime(curve.from), to: formatTime(curve.to) });
  timeChart(byId('curve'), curve.points, series, { marks: [alarm.first_at, ...(alarm.cleared_at ? [alarm.cleared_at] : [])] });
}

async function showOccurrences(page = 1) {
  const answer = await apiPage(`/alarms/${alarmId}/occurrences`, { page, page_size: 20 });
  const columns = [
    { label: '#', cell: (o) => formatNumber(o.n), num: true },
    { label: t('alarm.time'), cell: (o) => formatTime(o.time) },
    { label: t('alarm.value'), cell: (o) => formatNumber(o.value, 2), num: true },
    { label: t('alarm.threshold'), cell: (o) => formatNumber(o.threshold, 2), num: true },
    { label: t('alarm.resent'), cell: (o) => (o.resent ? t('alarm.yes') : t('alarm.no')) },
  ];
  fill(byId('occurrences'), dataTable({ columns, rows: answer.items, caption: t('alarm.occurrences') }));
  fill(byId('occurrence-pages'), answer.pages > 1 ? pager(answer, showOccurrences) : null);
}

function showEvents(alarm) {
  const columns = [
    { label: t('alarm.event'), cell: (e) => (EVENTS[e.event] ? EVENTS[e.event]() : e.event) },
    { label: t('alarm.time'), cell: (e) => formatTime(e.time || e.at) },
    { label: t('alarm.resolved_by'), cell: (e) => e.by || '—' },
    { label: t('alarm.note'), cell: (e) => e.note || '—' },
  ];
  fill(byId('events'), dataTable({ columns, rows: alarm.events, caption: t('alarm.events') }));
}

run(async () => {
  const who = await start({ needs: 'alarm.read' });
  let alarm = await api(`/alarms/${alarmId}`);
  const pageTitle = document.title;

  function show() {
    byId('alarm-title').textContent = `${alarmTitle(alarm)} · ${alarm.device_id}`;
    document.title = `${alarmTitle(alarm)} · ${pageTitle}`;
    fill(byId('facts'), facts(alarm));
    showEvents(alarm);
    byId('resolve-box').hidden = !(may(who, 'alarm.resolve') && alarm.state === 'open');
  }
  show();

  const form = byId('resolve');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await api(`/alarms/${alarmId}/resolve`, { method: 'POST', body: { note: byId('resolve-note').value } });
      alarm = await api(`/alarms/${alarmId}`);
      show();
      notify(t('alarm.resolved'), 'ok');
    } catch (error) {
      showErrors(form, error, 'resolve-');
    }
  });

  await Promise.all([showCurve(alarm), showOccurrences()]);
});
