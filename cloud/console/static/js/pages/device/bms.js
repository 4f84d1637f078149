// The pack as the BMS reports it now: the figures, the MOSFETs, protections, and one bar per
// cell scaled between the lowest and highest cell so a spread of a few millivolts shows.
import { fill, h } from '../../dom.js';
import { formatAgo, formatNumber, formatTime, t } from '../../i18n.js';

function onOff(value) {
  if (value === null || value === undefined) return h('span', { class: 'badge' }, '—');
  return value
    ? h('span', { class: 'badge ok' }, t('device.on'))
    : h('span', { class: 'badge bad' }, t('device.off'));
}

function facts(rows) {
  return rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value ?? '—')]);
}

function protections(list) {
  if (!list || !list.length) return h('span', { class: 'badge ok' }, t('device.no_protection'));
  return h('span', { class: 'flags' }, list.map((flag) => h('span', { class: 'badge bad' }, flag)));
}

function balancingText(sample, cellCount) {
  if (!sample || !Array.isArray(sample.balancing)) return '—';
  if (!sample.balancing.length) return t('device.balancing_none');
  const cells = sample.balancing.filter((i) => i >= 0 && i < cellCount).map((i) => i + 1);
  return t('device.balancing_cells', { cells: cells.join(', ') });
}

/** The index of the lowest and highest cell, and their spread in millivolts. */
export function cellSpread(cells) {
  let low = 0;
  let high = 0;
  cells.forEach((v, i) => {
    if (v < cells[low]) low = i;
    if (v > cells[high]) high = i;
  });
  return { low, high, deltaMv: (cells[high] - cells[low]) * 1000 };
}

function cellBars(target, summary, cells, balancing) {
  if (!cells || !cells.length) {
    summary.textContent = t('device.no_cells');
    fill(target);
    return;
  }
  const { low, high, deltaMv } = cellSpread(cells);
  summary.textContent = t('device.cell_summary', {
    min: formatNumber(cells[low], 3, 'V'),
    low: low + 1,
    max: formatNumber(cells[high], 3, 'V'),
    high: high + 1,
    delta: formatNumber(deltaMv, 0, 'mV'),
  });
  // the scale starts a little under the lowest cell, so the lowest bar is never empty
  const floor = cells[low] - Math.max(0.02, (cells[high] - cells[low]) * 0.5);
  const span = cells[high] - floor || 1;
  const balancingSet = new Set(balancing || []);
  fill(
    target,
    cells.map((volts, i) => {
      const bar = h('span', { class: 'bar' });
      bar.style.width = `${Math.max(4, ((volts - floor) / span) * 100)}%`;
      const marks = [];
      if (i === low) marks.push(t('device.cell_min'));
      if (i === high) marks.push(t('device.cell_max'));
      if (balancingSet.has(i)) marks.push(t('device.cell_balancing'));
      return h(
        'li',
        {
          class: `cell${i === low ? ' low' : ''}${i === high ? ' high' : ''}`,
          dataset: { cell: i + 1, volts },
        },
        h('span', { class: 'cell-name' }, t('device.cell_n', { n: i + 1 })),
        h('span', { class: 'track' }, bar),
        h('span', { class: 'cell-volts' }, formatNumber(volts, 3, 'V')),
        h('span', { class: 'cell-mark' }, marks.join(' · ')),
      );
    }),
  );
}

/** Show `state` (GET /devices/{id}/state) and `sample` (its latest BMS sample, or null). */
export function showBms(state, sample) {
  const cells = state.cell_voltages_v || [];
  document.getElementById('bms-time').textContent = state.bms_time
    ? t('device.bms_time', { time: formatTime(state.bms_time), ago: formatAgo(state.bms_time) })
    : t('device.no_bms');
  const temps = state.temperatures_c || [];
  fill(
    document.getElementById('bms-facts'),
    facts([
      [t('device.soc'), formatNumber(state.soc_percent, 0, '%')],
      [t('device.pack_voltage'), formatNumber(state.pack_voltage_v, 2, 'V')],
      [t('device.current'), formatNumber(state.current_a, 2, 'A')],
      [t('device.remaining'), formatNumber(state.remaining_ah, 2, 'Ah')],
      [t('device.full_capacity'), formatNumber(state.full_capacity_ah, 2, 'Ah')],
      [t('device.cycles'), formatNumber(state.cycles)],
      [t('device.temperatures'), temps.length ? temps.map((c) => formatNumber(c, 1, '°C')).join(' / ') : '—'],
      [t('device.charge_mos'), onOff(state.charge_mos)],
      [t('device.discharge_mos'), onOff(state.discharge_mos)],
      [t('device.protection'), protections(state.protection)],
      [t('device.balancing'), balancingText(sample, cells.length)],
    ]),
  );
  cellBars(document.getElementById('cells'), document.getElementById('cell-summary'), cells, sample?.balancing);
}
