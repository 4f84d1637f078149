// The pack's history as charts (SOC, voltage, current, temperature, cell spread) over 1 h,
// 24 h, 7 d or a chosen range. Short ranges come raw; longer ones ask the API for buckets so a
// week stays a few hundred points; whichever the API answers (rows or buckets) is drawn.
import { api, ApiError } from '../../api.js';
import { byId, clearErrors, fill, h, showErrors } from '../../dom.js';
import { formatNumber, t } from '../../i18n.js';
import { timeChart, update } from '../../chart.js';

const HOUR = 3600 * 1000;
const SPANS = { '1h': HOUR, '24h': 24 * HOUR, '7d': 7 * 24 * HOUR };
const BUCKETS_S = [60, 300, 900, 3600, 6 * 3600, 86400];
const MAX_POINTS = 600;

const avg = (stats) => (stats ? stats.avg : null);
const spreadMv = (low, high) => (low === null || high === null ? null : Math.round((high - low) * 1e4) / 10);

// one chart per quantity: its label, unit, and how to read it from a raw row or a bucket
function series() {
  return [
    { key: 'soc', label: t('device.soc'), unit: '%', raw: (r) => r.soc_percent, bucket: (b) => avg(b.soc_percent) },
    { key: 'voltage', label: t('device.pack_voltage'), unit: 'V', raw: (r) => r.pack_voltage_v, bucket: (b) => avg(b.pack_voltage_v) },
    { key: 'current', label: t('device.current'), unit: 'A', raw: (r) => r.current_a, bucket: (b) => avg(b.current_a) },
    { key: 'temperature', label: t('device.temperature_max'), unit: '°C', raw: (r) => r.temperature_max_c, bucket: (b) => avg(b.temperature_max_c) },
    {
      key: 'spread',
      label: t('device.cell_spread'),
      unit: 'mV',
      raw: (r) => spreadMv(r.cell_min_v, r.cell_max_v),
      bucket: (b) => spreadMv(avg(b.cell_min_v), avg(b.cell_max_v)),
    },
  ];
}

/** The bucket (seconds) for a range, or null to ask for raw samples. */
export function bucketFor(spanMs) {
  if (spanMs <= 2 * HOUR) return null;
  return BUCKETS_S.find((b) => spanMs / 1000 / b <= MAX_POINTS) || BUCKETS_S[BUCKETS_S.length - 1];
}

function localInput(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

/** The charts section of device `deviceId`. */
export function setUpCharts(deviceId) {
  const form = byId('chart-range');
  const spanSelect = byId('chart-span');
  const grid = byId('chart-grid');
  const note = byId('chart-note');
  const charts = new Map();
  const now = new Date();
  byId('chart-to').value = localInput(now);
  byId('chart-from').value = localInput(new Date(now.getTime() - 6 * HOUR));

  function range() {
    if (spanSelect.value !== 'custom') {
      const to = new Date();
      return { from: new Date(to.getTime() - SPANS[spanSelect.value]), to };
    }
    const from = new Date(byId('chart-from').value);
    const to = new Date(byId('chart-to').value);
    const problems = [];
    if (Number.isNaN(from.getTime())) problems.push({ field: 'from', reason: t('device.need_time') });
    if (Number.isNaN(to.getTime())) problems.push({ field: 'to', reason: t('device.need_time') });
    else if (!problems.length && to <= from) problems.push({ field: 'to', reason: t('device.to_after_from') });
    if (problems.length) throw new ApiError(422, { detail: t('device.bad_range'), errors: problems });
    return { from, to };
  }

  function draw(points, quantities) {
    for (const quantity of quantities) {
      const rows = points.map((p) => ({ time: p.time, value: p[quantity.key] }));
      const line = [{ label: quantity.label, unit: quantity.unit, value: (row) => row.value }];
      if (charts.has(quantity.key)) {
        update(charts.get(quantity.key), rows, line);
      } else {
        const box = h('figure', { class: 'chart', dataset: { quantity: quantity.key } });
        box.append(h('figcaption', {}, `${quantity.label} (${quantity.unit})`));
        const plot = h('div', { class: 'plot' });
        box.append(plot);
        grid.append(box);
        charts.set(quantity.key, timeChart(plot, rows, line, { height: 180 }));
      }
    }
  }

  let latest = 0; // the latest load: an older answer arriving late is dropped

  async function load() {
    const mine = ++latest;
    clearErrors(form);
    let asked;
    try {
      asked = range();
    } catch (error) {
      showErrors(form, error, 'chart-');
      return;
    }
    const bucket = bucketFor(asked.to - asked.from);
    note.textContent = t('app.loading');
    let answer;
    try {
      answer = await api(`/devices/${encodeURIComponent(deviceId)}/bms`, {
        query: {
          from: asked.from.toISOString(),
          to: asked.to.toISOString(),
          bucket: bucket ? `${bucket}s` : null,
        },
      });
    } catch (error) {
      if (mine !== latest) return;
      note.textContent = '';
      showErrors(form, error, 'chart-');
      return;
    }
    if (mine !== latest) return;
    const quantities = series();
    const bucketed = Array.isArray(answer.buckets);
    const items = (bucketed ? answer.buckets : answer.rows) || [];
    const points = items.map((item) => {
      const point = { time: item.time };
      for (const q of quantities) point[q.key] = bucketed ? q.bucket(item) : q.raw(item);
      return point;
    });
    draw(points, quantities);
    grid.dataset.points = String(points.length);
    const parts = [
      bucketed
        ? t('device.chart_buckets', { n: formatNumber(points.length), s: formatNumber(answer.bucket_s) })
        : t('device.chart_samples', { n: formatNumber(points.length) }),
    ];
    if (!points.length) parts.push(t('device.chart_empty'));
    if (answer.truncated) parts.push(t('device.chart_truncated'));
    note.textContent = parts.join(' ');
  }

  spanSelect.addEventListener('change', () => {
    for (const field of form.querySelectorAll('[data-custom]')) field.hidden = spanSelect.value !== 'custom';
    if (spanSelect.value !== 'custom') load();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  fill(grid);
  return load();
}
