// The devices on the map: clustered with Supercluster when zoomed out (in a worker:
// cluster_worker.js), each device a canvas circle (Leaflet's canvas renderer: ten thousand
// of them stay smooth, where DOM markers would not). Clusters are a few dozen DOM markers,
// kept from one redraw to the next, so they can carry their count and be reached with Tab
// and opened with Enter.
import { h } from '../dom.js';
import { language, t } from '../i18n.js';
import { L } from '../map.js';
import { alarmRank, band, hasPosition, isCut } from './devices.js';

// Fill by state (offline grey; online by SOC band), ring by the worst open alarm.
export const FILL = { offline: '#9ca3af', unknown: '#64748b', low: '#dc2626', mid: '#d97706', high: '#16a34a' };
export const RING = ['#ffffff', '#2563eb', '#ea580c', '#a21caf'];
const CLUSTER_MAX_ZOOM = 16; // from 17 on every device is drawn on its own
// one formatter for every count (i18n.formatNumber makes one per call: too slow per frame)
const counts = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });

function look(device) {
  const rank = alarmRank(device);
  return {
    radius: rank ? 8 : 6,
    weight: rank ? 3 : 1.5,
    color: RING[rank],
    fillColor: FILL[band(device)],
    fillOpacity: 0.95,
    opacity: 1,
  };
}

export class DeviceLayer {
  /** `onSelect(id)` runs when a device's circle is clicked; `onDrawn(generation)` when the
   * map shows the positions of that reindex() (its return value). */
  constructor(map, fleet, onSelect, onDrawn) {
    this.map = map;
    this.fleet = fleet;
    this.onSelect = onSelect;
    this.onDrawn = onDrawn;
    this.renderer = L.canvas({ padding: 0.3 });
    this.singles = new Map(); // id -> { marker, cut: the inner mark or null, key }
    this.clusters = L.layerGroup().addTo(map);
    this.clusterMarkers = new Map(); // Supercluster's cluster id -> its marker
    this.generation = 0;
    this.asked = 0; // the latest query: older answers are dropped
    this.loaded = false;
    this.worker = new Worker('/console/static/js/map_page/cluster_worker.js');
    this.worker.onmessage = ({ data }) => this.answer(data);
  }

  /** Cluster the devices `ids` (those with a position) again and redraw; returns the
   * generation onDrawn will report once the map shows them. */
  reindex(ids) {
    const kept = [];
    const lats = new Float64Array(ids.length);
    const lons = new Float64Array(ids.length);
    const ranks = new Uint8Array(ids.length);
    for (const id of ids) {
      const device = this.fleet.byId.get(id);
      if (!device || !hasPosition(device)) continue;
      lats[kept.length] = device.lat;
      lons[kept.length] = device.lon;
      ranks[kept.length] = alarmRank(device);
      kept.push(id);
    }
    this.generation += 1;
    // the ids go to the worker only when they differ from the last load's (10,000 strings
    // cloned four times a second showed in the profile)
    const same = this.sentIds?.length === kept.length && kept.every((id, i) => id === this.sentIds[i]);
    this.sentIds = kept;
    const load = {
      generation: this.generation,
      ids: same ? null : kept,
      lats: lats.subarray(0, kept.length),
      lons: lons.subarray(0, kept.length),
      ranks: ranks.subarray(0, kept.length),
      maxZoom: CLUSTER_MAX_ZOOM,
    };
    this.loaded = true;
    this.worker.postMessage({ load, query: this.view() }, [lats.buffer, lons.buffer, ranks.buffer]);
    return this.generation;
  }

  /** Redraw what the view shows (after a pan or zoom). */
  draw() {
    if (this.loaded) this.worker.postMessage({ query: this.view() });
  }

  view() {
    const bounds = this.map.getBounds();
    const box = [
      Math.max(-180, bounds.getWest()),
      Math.max(-85, bounds.getSouth()),
      Math.min(180, bounds.getEast()),
      Math.min(85, bounds.getNorth()),
    ];
    this.asked += 1;
    return { box, zoom: Math.round(this.map.getZoom()), seq: this.asked };
  }

  answer({ seq, generation, clusters, singles }) {
    if (seq !== this.asked) return; // a newer view was asked for meanwhile
    const seen = new Set();
    for (const id of singles) {
      if (!this.fleet.byId.has(id)) continue; // gone since
      seen.add(id);
      this.single(id);
    }
    for (const [id, drawn] of this.singles) {
      if (!seen.has(id)) {
        drawn.marker.remove();
        drawn.cut?.remove();
        this.singles.delete(id);
      }
    }
    const seenClusters = new Set();
    for (const item of clusters) {
      seenClusters.add(item[0]);
      this.cluster(item);
    }
    for (const [id, marker] of this.clusterMarkers) {
      if (!seenClusters.has(id)) {
        this.clusters.removeLayer(marker);
        this.clusterMarkers.delete(id);
      }
    }
    this.onDrawn(generation);
  }

  /** Where device `id` is drawn on its own now ([lat, lon]), or null (clustered, hidden). */
  drawnAt(id) {
    const drawn = this.singles.get(id);
    if (!drawn) return null;
    const { lat, lng } = drawn.marker.getLatLng();
    return [lat, lng];
  }

  single(id) {
    const device = this.fleet.byId.get(id);
    const at = [device.lat, device.lon];
    // what the circle shows: a redraw of an unchanged device costs nothing
    const key = `${device.lat},${device.lon},${band(device)},${alarmRank(device)},${isCut(device)}`;
    let drawn = this.singles.get(id);
    if (drawn?.key === key) return;
    if (!drawn) {
      const marker = L.circleMarker(at, { renderer: this.renderer, ...look(device) });
      marker.on('click', () => this.onSelect(id));
      drawn = { marker: marker.addTo(this.map), cut: null, key };
      this.singles.set(id, drawn);
    } else {
      const style = look(device);
      drawn.key = key;
      drawn.marker.setLatLng(at);
      drawn.marker.setStyle(style);
      drawn.marker.setRadius(style.radius);
    }
    if (isCut(device)) {
      if (!drawn.cut) {
        drawn.cut = L.circleMarker(at, {
          renderer: this.renderer,
          radius: 2.5,
          stroke: false,
          fillColor: '#111827',
          fillOpacity: 1,
          interactive: false,
        }).addTo(this.map);
      } else drawn.cut.setLatLng(at);
    } else if (drawn.cut) {
      drawn.cut.remove();
      drawn.cut = null;
    }
  }

  /** Draw a cluster ([id, lat, lon, count, worst alarm rank, the zoom that opens it]),
   * reusing its marker from the last redraw where it has one. */
  cluster(item) {
    const [id, lat, lon, count, rank] = item;
    let marker = this.clusterMarkers.get(id);
    if (!marker) {
      marker = L.marker([lat, lon], { keyboard: true, icon: clusterIcon(count, rank) });
      marker.on('click', () => {
        this.map.setView(marker.getLatLng(), Math.min(marker.item[5], CLUSTER_MAX_ZOOM + 1));
      });
      this.clusters.addLayer(marker);
      this.clusterMarkers.set(id, marker);
      marker.item = [];
    } else {
      // A centroid drifting by less than a pixel is not worth a style write.
      const was = this.map.latLngToLayerPoint(marker.getLatLng());
      const now = this.map.latLngToLayerPoint([lat, lon]);
      if (Math.abs(was.x - now.x) >= 1 || Math.abs(was.y - now.y) >= 1) marker.setLatLng([lat, lon]);
    }
    const was = marker.item;
    if (was[3] !== count || was[4] !== rank) {
      if (was.length) marker.setIcon(clusterIcon(count, rank));
      const label = t('map.cluster', { n: count });
      marker.getElement()?.setAttribute('title', label);
      marker.getElement()?.setAttribute('aria-label', label);
    }
    marker.item = item;
  }
}

function clusterIcon(count, rank) {
  const size = count < 100 ? 30 : count < 1000 ? 38 : 46;
  return L.divIcon({
    className: `cluster-mark${rank ? ` alarm-${rank}` : ''}`,
    html: h('span', {}, counts.format(count)),
    iconSize: [size, size],
  });
}
