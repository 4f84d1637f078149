// Time-series charts with uPlot: one series or several on a shared time axis, sized to their
// box, in the page's language. Times are ISO strings or Dates; uPlot works in seconds.
import uPlot from '/console/vendor/uplot/uPlot.esm.js';
import { formatTime } from './i18n.js';

export { uPlot };

const COLOURS = ['#0b6e4f', '#1d4ed8', '#b45309', '#b91c1c', '#6d28d9', '#0e7490'];

/**
 * A chart in `element` of `rows` (objects with a `time`) and `series`: [{ label, value:
 * row => number, unit, colour }]. `marks`: times (ISO) to draw as vertical lines (an alarm's
 * moment). Returns the uPlot instance; `update(chart, rows, series)` redraws it.
 */
export function timeChart(element, rows, series, { height = 220, marks = [] } = {}) {
  const options = {
    width: Math.max(element.clientWidth, 280),
    height,
    series: [
      { value: (u, v) => (v === null ? '—' : formatTime(new Date(v * 1000))) },
      ...series.map((s, i) => ({
        label: s.unit ? `${s.label} (${s.unit})` : s.label,
        stroke: s.colour || COLOURS[i % COLOURS.length],
        width: 1.5,
        spanGaps: false,
      })),
    ],
    axes: [{}, { size: 56 }],
    cursor: { drag: { x: true, y: false } },
    hooks: {
      draw: [
        (u) => {
          const pen = u.ctx;
          pen.save();
          pen.strokeStyle = '#b91c1c';
          pen.setLineDash([4, 4]);
          for (const mark of marks) {
            const x = u.valToPos(new Date(mark).getTime() / 1000, 'x', true);
            pen.beginPath();
            pen.moveTo(x, u.bbox.top);
            pen.lineTo(x, u.bbox.top + u.bbox.height);
            pen.stroke();
          }
          pen.restore();
        },
      ],
    },
  };
  const chart = new uPlot(options, columns(rows, series), element);
  new ResizeObserver(() => chart.setSize({ width: Math.max(element.clientWidth, 280), height })).observe(element);
  return chart;
}

/** uPlot's columns: the times in seconds, then each series' values. */
export function columns(rows, series) {
  return [
    rows.map((row) => new Date(row.time).getTime() / 1000),
    ...series.map((s) => rows.map((row) => s.value(row) ?? null)),
  ];
}

/** Redraw `chart` with new `rows`. */
export function update(chart, rows, series) {
  chart.setData(columns(rows, series));
}
