// The live map: every device of the caller's scope, clustered on a canvas, kept current by
// the live feed (a snapshot, then the stream's changed rows), with a filtered side list.
// Stream events are coalesced per animation frame and the map re-clusters at most every
// RECLUSTER_MS, so a thousand updates a second cost a few redraws, not a thousand.
import { api, apiAll } from '../api.js';
import { byId, h } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { follow } from '../live.js';
import { createMap, L, sharedLayers } from '../map.js';
import { Fleet, hasPosition } from '../map_page/devices.js';
import { foldingLegend } from '../map_page/legend.js';
import { DeviceList } from '../map_page/list.js';
import { DeviceLayer } from '../map_page/markers.js';
import { popupContent } from '../map_page/popup.js';
import { may, notify, run, start } from '../shell.js';

const RECLUSTER_MS = 250;
const FILTER_DELAY_MS = 120;
const RETRY_MS = 5000;

async function optional(allowed, load) {
  if (!allowed) return [];
  try {
    return await load();
  } catch (error) {
    notify(error.message, 'warn');
    return [];
  }
}

function fillSelect(select, options) {
  const chosen = select.value;
  const first = select.options[0];
  select.replaceChildren(first, ...options.map(([value, text]) => h('option', { value }, text)));
  select.value = options.some(([value]) => value === chosen) ? chosen : '';
}

// On a wide screen the map and list fill what the viewport leaves under the bar (whose
// height depends on how many menu entries wrap); on a phone the list follows the map.
function fitToViewport(map) {
  const page = document.querySelector('.map-page');
  const wide = window.matchMedia('(min-width: 761px)');
  const fit = () => {
    const top = page.getBoundingClientRect().top + window.scrollY;
    page.style.height = wide.matches ? `${Math.max(360, window.innerHeight - top - 16)}px` : '';
    map.invalidateSize();
  };
  window.addEventListener('resize', fit);
  fit();
}

run(async () => {
  const who = await start({ needs: 'device.read' });
  const map = createMap(byId('map'));
  fitToViewport(map);
  const [stores, fences] = await Promise.all([
    optional(may(who, 'store.read'), () => apiAll('/stores')),
    optional(may(who, 'geofence.read'), () => apiAll('/geofences')),
  ]);
  sharedLayers(map, { stores, fences });
  foldingLegend(map, [
    ['band-high', t('map.legend.high')],
    ['band-mid', t('map.legend.mid')],
    ['band-low', t('map.legend.low')],
    ['band-offline', t('map.offline')],
    ['ring-3', t('map.alarm.critical')],
    ['ring-2', t('map.alarm.warning')],
    ['ring-1', t('map.alarm.info')],
    ['cut', t('map.cut')],
    ['cluster', t('map.legend.cluster')],
  ]);
  const storeNames = new Map(stores.map((store) => [store.id, store.name]));
  const storeName = (id) => storeNames.get(id) || t('map.store_id', { id });

  const fleet = new Fleet();
  const form = byId('map-filters');
  const popup = L.popup({ maxWidth: 280, autoPanPadding: [20, 20] });
  let selected = null;
  let shown = [];

  // A small read-only hook for benchmarks/console_map.py (and curious people): when the
  // map was first drawn with every device (performance.now()), the last redraw (Date.now()),
  // and when watched devices were drawn at a new place (Date.now()).
  const hook = {
    firstDraw: null,
    snapshotAt: null, // when the first snapshot had arrived (performance.now())
    lastDraw: null,
    devices: 0,
    moves: [],
    watched: new Map(),
    watch(ids) {
      // from where each is now: a move that lands before the next redraw still counts
      for (const id of ids) {
        const device = fleet.byId.get(id);
        this.watched.set(id, device && hasPosition(device) ? [device.lat, device.lon] : null);
      }
    },
    drawnAt: (id) => layer.drawnAt(id),
  };
  window.voltrentMap = hook;

  function showPopup(device) {
    popup.setLatLng([device.lat, device.lon]).setContent(popupContent(device, storeName));
  }

  function select(id, center) {
    const device = fleet.byId.get(id);
    if (!device) return;
    selected = id;
    list.choose(id);
    if (!hasPosition(device)) {
      map.closePopup();
      notify(t('map.no_position', { id }), 'warn');
      return;
    }
    notify('');
    if (center) {
      byId('map').scrollIntoView({ block: 'start' }); // a phone: the map is above the list
      map.setView([device.lat, device.lon], Math.max(map.getZoom(), 17), { animate: false });
    }
    showPopup(device);
    popup.openOn(map);
  }

  const layer = new DeviceLayer(map, fleet, (id) => select(id, false), (generation) => drawn(generation));
  const list = new DeviceList(byId('map-list'), byId('map-rows'), fleet, (id) => select(id, true));
  popup.on('remove', () => {
    selected = null;
  });

  // Watched devices' new positions wait for the redraw that shows them (by generation).
  let pendingMoves = [];
  let snapshotGeneration = null;
  function noteMoves(generation) {
    for (const [id, last] of hook.watched) {
      const device = fleet.byId.get(id);
      if (!device || !hasPosition(device)) continue;
      if (last && last[0] === device.lat && last[1] === device.lon) continue;
      hook.watched.set(id, [device.lat, device.lon]);
      if (last) pendingMoves.push({ id, lat: device.lat, lon: device.lon, generation });
    }
  }
  function drawn(generation) {
    const now = Date.now();
    hook.lastDraw = now;
    if (hook.firstDraw === null && snapshotGeneration !== null && generation >= snapshotGeneration) {
      hook.firstDraw = performance.now();
    }
    if (!pendingMoves.length) return;
    const shown = pendingMoves.filter((move) => move.generation <= generation);
    pendingMoves = pendingMoves.filter((move) => move.generation > generation);
    for (const move of shown) hook.moves.push({ id: move.id, lat: move.lat, lon: move.lon, at: now });
  }

  let lastCluster = 0;
  let clusterTimer = null;
  function refilter() {
    clearTimeout(clusterTimer);
    clusterTimer = null;
    shown = fleet.select(Object.fromEntries(new FormData(form)));
    list.show(shown);
    byId('map-count').textContent = t('map.count', {
      shown: formatNumber(shown.length),
      total: formatNumber(fleet.byId.size),
    });
    const generation = layer.reindex(shown);
    lastCluster = performance.now();
    hook.devices = fleet.byId.size;
    if (hook.watched.size) noteMoves(generation);
    return generation;
  }

  function reclusterSoon() {
    if (clusterTimer) return;
    const wait = RECLUSTER_MS - (performance.now() - lastCluster);
    if (wait <= 0) refilter();
    else clusterTimer = setTimeout(refilter, wait);
  }

  function fillChoices() {
    const { models, stores: storeIds } = fleet.choices();
    fillSelect(byId('map-model'), models.map((model) => [model, model]));
    const named = storeIds.map((id) => [String(id), storeName(id)]);
    fillSelect(byId('map-store'), named.sort((a, b) => a[1].localeCompare(b[1])));
  }

  // The stream's events wait here until the next animation frame.
  let pendingRows = [];
  let pendingGone = [];
  let frame = 0;
  function flush() {
    frame = 0;
    const size = fleet.byId.size;
    const changed = new Set();
    for (const batch of pendingRows) for (const id of fleet.apply(batch)) changed.add(id);
    if (pendingGone.length) {
      fleet.remove(pendingGone);
      if (selected && !fleet.byId.has(selected)) map.closePopup(); // it left the caller's scope
    }
    pendingRows = [];
    pendingGone = [];
    if (fleet.byId.size !== size) fillChoices();
    if (selected && changed.has(selected) && hasPosition(fleet.byId.get(selected))) {
      showPopup(fleet.byId.get(selected));
    }
    reclusterSoon();
  }
  function later() {
    frame ||= requestAnimationFrame(flush);
  }

  let stop = null;
  let loading = null;
  function restart() {
    loading ||= load().finally(() => {
      loading = null;
    });
  }
  async function load() {
    stop?.();
    const snapshot = await api('/live/devices');
    const first = hook.firstDraw === null;
    if (first) hook.snapshotAt = performance.now();
    pendingRows = [];
    pendingGone = [];
    fleet.load(snapshot);
    fillChoices();
    if (first) fitAll();
    const generation = refilter();
    if (first) snapshotGeneration = generation;
    stop = follow(`/live/stream?cursor=${encodeURIComponent(snapshot.cursor)}`, {
      devices: (data) => {
        pendingRows.push(data);
        later();
      },
      gone: (data) => {
        pendingGone.push(...data.ids);
        later();
      },
      resync: restart,
      closed: () => setTimeout(restart, RETRY_MS),
    });
  }

  function fitAll() {
    const points = [];
    for (const device of fleet.byId.values()) if (hasPosition(device)) points.push([device.lat, device.lon]);
    if (points.length) map.fitBounds(L.latLngBounds(points), { maxZoom: 15, padding: [40, 40], animate: false });
  }

  map.on('moveend', () => layer.draw());
  let typing = null;
  form.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(refilter, FILTER_DELAY_MS);
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') map.closePopup();
  });
  restart();
  await loading;
});
