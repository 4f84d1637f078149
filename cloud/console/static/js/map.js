// The console's maps: Leaflet on the configured tiles, or on a plain background where no tile
// server is configured or reachable (a closed network), with the layers every map shares:
// geofences and stores. Positions are WGS-84 as the API keeps them.
import * as L from '/console/vendor/leaflet/leaflet-src.esm.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export { L };

// The demo's service area (Hangzhou) until a map has something of its own to show.
const FALLBACK_CENTER = [30.27, 120.15];

/** A Leaflet map in `element`, drawing on canvas (thousands of markers stay smooth). */
export function createMap(element, { center = FALLBACK_CENTER, zoom = 12 } = {}) {
  const map = L.map(element, { preferCanvas: true, worldCopyJump: true }).setView(center, zoom);
  const url = document.body.dataset.tileUrl;
  if (url) {
    L.tileLayer(url, {
      attribution: document.body.dataset.tileAttribution || '',
      maxZoom: 19,
      subdomains: 'abc',
    }).addTo(map);
  } else {
    element.classList.add('plain-map'); // no tiles: a plain background (console.css)
  }
  L.control.scale({ imperial: false }).addTo(map);
  return map;
}

/** The Leaflet layer of a geofence as the API answers it (a circle, or a GeoJSON polygon). */
export function fenceLayer(fence, style = {}) {
  const look = {
    color: fence.kind === 'keep_out' ? '#b91c1c' : '#1d4ed8',
    weight: 2,
    fillOpacity: 0.08,
    ...style,
  };
  const layer = fence.circle
    ? L.circle([fence.circle.lat, fence.circle.lon], { radius: fence.circle.radius_m, ...look })
    : L.geoJSON(fence.geometry, { style: () => look });
  layer.bindTooltip(fence.name, { sticky: true });
  return layer;
}

/** A store as a square mark with its name. */
export function storeLayer(store) {
  const icon = L.divIcon({ className: 'store-mark', html: '', iconSize: [14, 14] });
  return L.marker([store.lat, store.lon], { icon, keyboard: true, title: store.name })
    .bindTooltip(t('map.store', { name: store.name }));
}

/** Fences and stores (those with a position) as two layer groups, added to `map`. */
export function sharedLayers(map, { fences = [], stores = [] } = {}) {
  const fenceGroup = L.layerGroup(fences.map((fence) => fenceLayer(fence))).addTo(map);
  const storeGroup = L.layerGroup(
    stores.filter((s) => s.lat !== null && s.lon !== null).map(storeLayer),
  ).addTo(map);
  L.control
    .layers(null, { [t('map.layer.fences')]: fenceGroup, [t('map.layer.stores')]: storeGroup })
    .addTo(map);
  return { fenceGroup, storeGroup };
}

/** A small legend box in a map corner (`rows`: [cssClass, text]). */
export function legend(map, rows, position = 'bottomleft') {
  const control = L.control({ position });
  control.onAdd = () =>
    h('div', { class: 'map-legend' }, rows.map(([kind, text]) => h('div', {}, h('span', { class: `swatch ${kind}` }), text)));
  control.addTo(map);
  return control;
}
