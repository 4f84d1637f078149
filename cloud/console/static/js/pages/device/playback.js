// A day's trajectory: the track coloured by speed, stops marked with how long they lasted, a
// summary (distance, moving, parked) and a replay whose marker moves in proportion to the
// real time between fixes, at 1x to 1200x, from a slider a person can also drag.
import { api } from '../../api.js';
import { byId, clearErrors, fill, h, showErrors } from '../../dom.js';
import { formatNumber, formatTime, t } from '../../i18n.js';
import { createMap, fenceLayer, L, legend } from '../../map.js';
import { dataTable } from '../../table.js';

const MOVING_KMH = 1.5; // slower than this is standing still (the gateway's own rule)
const STOP_MIN_S = 60; // a shorter standstill is traffic, not a stop
const RAW_LIMIT = 20000; // fixes the browser replays smoothly
const THIN_BUCKET = '5s'; // a day in 5 s buckets stays under RAW_LIMIT
const BANDS = [
  { below: 10, colour: '#15803d', swatch: 'speed-slow' },
  { below: 25, colour: '#1d4ed8', swatch: 'speed-mid' },
  { below: 40, colour: '#b45309', swatch: 'speed-fast' },
  { below: Infinity, colour: '#b91c1c', swatch: 'speed-top' },
];

/** Metres between two fixes (haversine on a sphere of the Earth's mean radius). */
export function metres(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(s));
}

/** Each step between fixes: seconds, metres, and whether the vehicle was moving. */
export function steps(points) {
  const out = [];
  for (let i = 1; i < points.length; i += 1) {
    const a = points[i - 1];
    const b = points[i];
    const seconds = (b.ms - a.ms) / 1000;
    const distance = metres(a, b);
    const reported = [a.speed_kmh, b.speed_kmh].filter((v) => v !== null && v !== undefined);
    const kmh = reported.length ? Math.max(...reported) : seconds > 0 ? (distance / seconds) * 3.6 : 0;
    out.push({ from: a, to: b, seconds, distance, moving: kmh >= MOVING_KMH });
  }
  return out;
}

/** Stops (runs of standing still of at least a minute), distance and time moving/parked. */
export function summarise(points) {
  const all = steps(points);
  const stops = [];
  let run = null;
  let km = 0;
  let moving = 0;
  let parked = 0;
  for (const step of all) {
    if (step.moving) {
      km += step.distance / 1000;
      moving += step.seconds;
      if (run && run.seconds >= STOP_MIN_S) stops.push(run);
      run = null;
    } else {
      parked += step.seconds;
      run ??= { at: step.from, start: step.from.ms, seconds: 0 };
      run.seconds += step.seconds;
    }
  }
  if (run && run.seconds >= STOP_MIN_S) stops.push(run);
  return { km, moving, parked, stops };
}

function band(kmh) {
  return BANDS.find((b) => (kmh ?? 0) < b.below);
}

function duration(seconds) {
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t('device.minutes', { n: minutes });
  return t('device.hours_minutes', { h: Math.floor(minutes / 60), m: minutes % 60 });
}

function localDay(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 10);
}

/** The trajectory section; `fences` (may be empty) are drawn on its map. */
export function setUpPlayback(deviceId, fences) {
  const form = byId('track-day');
  const dateInput = byId('track-date');
  const slider = byId('play-time');
  const clock = byId('play-clock');
  const playButton = byId('play');
  const speedSelect = byId('play-speed');
  const mapBox = byId('track-map');
  const map = createMap(mapBox);
  for (const fence of fences) fenceLayer(fence).addTo(map);
  legend(map, BANDS.map((b, i) => [b.swatch, i === BANDS.length - 1
    ? t('device.speed_over', { n: BANDS[i - 1].below })
    : t('device.speed_under', { n: b.below })]));
  const track = L.layerGroup().addTo(map);
  const headIcon = L.divIcon({ className: 'playhead', html: '', iconSize: [16, 16] });
  const head = L.marker([0, 0], { icon: headIcon, keyboard: false, interactive: false });
  let points = [];
  let playing = false;
  let last = null;
  let playhead = 0; // ms since the first fix

  function place(offset) {
    if (!points.length) return;
    playhead = Math.min(Math.max(0, offset), points[points.length - 1].ms - points[0].ms);
    const at = points[0].ms + playhead;
    let i = points.findIndex((p) => p.ms >= at);
    if (i === -1) i = points.length - 1;
    const b = points[i];
    const a = points[Math.max(0, i - 1)];
    const share = b.ms === a.ms ? 1 : (at - a.ms) / (b.ms - a.ms);
    const lat = a.lat + (b.lat - a.lat) * share;
    const lon = a.lon + (b.lon - a.lon) * share;
    head.setLatLng([lat, lon]);
    mapBox.dataset.head = `${lat.toFixed(6)},${lon.toFixed(6)}`;
    slider.value = String(Math.round(playhead / 1000));
    const speed = a.speed_kmh ?? b.speed_kmh;
    clock.textContent = `${formatTime(new Date(at))} · ${formatNumber(speed, 0, 'km/h')}`;
  }

  function frame(now) {
    if (!playing) return;
    if (last !== null) place(playhead + (now - last) * Number(speedSelect.value));
    last = now;
    if (playhead >= points[points.length - 1].ms - points[0].ms) pause();
    else requestAnimationFrame(frame);
  }

  function play() {
    if (points.length < 2) return;
    if (playhead >= points[points.length - 1].ms - points[0].ms) place(0);
    playing = true;
    last = null;
    playButton.textContent = t('device.pause');
    playButton.setAttribute('aria-pressed', 'true');
    requestAnimationFrame(frame);
  }

  function pause() {
    playing = false;
    playButton.textContent = t('device.play');
    playButton.setAttribute('aria-pressed', 'false');
  }

  function drawTrack(summary) {
    track.clearLayers();
    // one line per run of the same speed band (Leaflet copies the points when it is made)
    const runs = [];
    for (const step of steps(points)) {
      const colour = band(step.from.speed_kmh).colour;
      if (!runs.length || runs[runs.length - 1].colour !== colour) {
        runs.push({ colour, line: [[step.from.lat, step.from.lon]] });
      }
      runs[runs.length - 1].line.push([step.to.lat, step.to.lon]);
    }
    for (const run of runs) L.polyline(run.line, { color: run.colour, weight: 4, opacity: 0.85 }).addTo(track);
    for (const stop of summary.stops) {
      const icon = L.divIcon({ className: 'stop-mark', html: '', iconSize: [14, 14] });
      const text = t('device.stop_at', { time: formatTime(new Date(stop.start)), duration: duration(stop.seconds) });
      L.marker([stop.at.lat, stop.at.lon], { icon, title: text, keyboard: true }).bindTooltip(text).addTo(track);
    }
    if (points.length) {
      head.addTo(map);
      map.fitBounds(L.latLngBounds(points.map((p) => [p.lat, p.lon])).pad(0.15));
    } else head.remove();
  }

  function showSummary(summary) {
    const rows = [
      [t('device.fixes'), formatNumber(points.length)],
      [t('device.distance'), formatNumber(summary.km, 1, 'km')],
      [t('device.moving'), duration(summary.moving)],
      [t('device.parked'), duration(summary.parked)],
      [t('device.stops'), formatNumber(summary.stops.length)],
    ];
    fill(byId('track-summary'), rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    const list = document.getElementById('stop-table') || h('div', { id: 'stop-table' });
    mapBox.after(list);
    fill(
      list,
      summary.stops.length
        ? dataTable({
            caption: t('device.stops'),
            columns: [
              { label: t('device.stop_from'), cell: (s) => formatTime(new Date(s.start)) },
              { label: t('device.stop_for'), cell: (s) => duration(s.seconds) },
            ],
            rows: summary.stops,
          })
        : null,
    );
  }

  let asked = 0; // the latest load: an older answer arriving late is dropped

  async function load() {
    const mine = ++asked;
    clearErrors(form);
    pause();
    const day = dateInput.value;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      showErrors(form, { fields: { date: [t('device.need_day')] }, message: t('device.need_day') }, 'track-');
      return;
    }
    const from = new Date(`${day}T00:00`);
    const to = new Date(from.getTime() + 86400000);
    const url = `/devices/${encodeURIComponent(deviceId)}/positions`;
    const range = { from: from.toISOString(), to: to.toISOString() };
    let answer;
    try {
      answer = await api(url, { query: { ...range, limit: RAW_LIMIT } });
      // a day of fixes several times a second: the last fix of every few seconds instead
      if (answer.truncated) answer = await api(url, { query: { ...range, bucket: THIN_BUCKET, limit: RAW_LIMIT } });
    } catch (error) {
      if (mine === asked) showErrors(form, error, 'track-');
      return;
    }
    if (mine !== asked) return;
    points = (answer.rows || answer.buckets || []).map((p) => ({ ...p, ms: new Date(p.time).getTime() }));
    const summary = summarise(points);
    slider.max = String(points.length ? Math.round((points[points.length - 1].ms - points[0].ms) / 1000) : 0);
    slider.disabled = points.length < 2;
    playButton.disabled = points.length < 2;
    drawTrack(summary);
    showSummary(summary);
    if (points.length) place(0);
    else clock.textContent = t('device.no_track');
  }

  playButton.addEventListener('click', () => (playing ? pause() : play()));
  slider.addEventListener('input', () => place(Number(slider.value) * 1000));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  dateInput.value = localDay(new Date());
  return load();
}
