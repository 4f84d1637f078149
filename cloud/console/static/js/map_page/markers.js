// The devices on the map: clustered with Supercluster when zoomed out, each device a canvas
// circle (Leaflet's canvas renderer: ten thousand of them stay smooth, where DOM markers
// would not). Clusters are a few dozen DOM markers, so they can carry their count and be
// reached with Tab and opened with Enter.
import '/console/vendor/supercluster/supercluster.min.js'; // UMD: sets globalThis.Supercluster
import { h } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { L } from '../map.js';
import { alarmRank, band, hasPosition, isCut } from './devices.js';

const Supercluster = globalThis.Supercluster;

// Fill by state (offline grey; online by SOC band), ring by the worst open alarm.
export const FILL = { offline: '#9ca3af', unknown: '#64748b', low: '#dc2626', mid: '#d97706', high: '#16a34a' };
export const RING = ['#ffffff', '#2563eb', '#ea580c', '#a21caf'];
const CLUSTER_MAX_ZOOM = 16; // from 17 on every device is drawn on its own

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
  /** `onSelect(id)` runs when a device's circle is clicked. */
  constructor(map, fleet, onSelect) {
    this.map = map;
    this.fleet = fleet;
    this.onSelect = onSelect;
    this.renderer = L.canvas({ padding: 0.3 });
    this.singles = new Map(); // id -> { marker, cut: the inner mark or null }
    this.clusters = L.layerGroup().addTo(map);
    this.index = null;
  }

  /** Cluster the devices `ids` (those with a position) again. */
  reindex(ids) {
    const features = [];
    for (const id of ids) {
      const device = this.fleet.byId.get(id);
      if (!device || !hasPosition(device)) continue;
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [device.lon, device.lat] },
        properties: { id, rank: alarmRank(device) },
      });
    }
    this.index = new Supercluster({
      radius: 60,
      maxZoom: CLUSTER_MAX_ZOOM,
      map: (props) => ({ rank: props.rank }),
      reduce: (acc, props) => {
        acc.rank = Math.max(acc.rank, props.rank);
      },
    }).load(features);
    return features.length;
  }

  /** Draw what the view shows: clusters and single devices in the map's bounds. */
  draw() {
    if (!this.index) return 0;
    const bounds = this.map.getBounds();
    const box = [
      Math.max(-180, bounds.getWest()),
      Math.max(-85, bounds.getSouth()),
      Math.min(180, bounds.getEast()),
      Math.min(85, bounds.getNorth()),
    ];
    const items = this.index.getClusters(box, Math.round(this.map.getZoom()));
    const seen = new Set();
    this.clusters.clearLayers();
    for (const item of items) {
      if (item.properties.cluster) this.clusters.addLayer(this.clusterMarker(item));
      else {
        seen.add(item.properties.id);
        this.single(item.properties.id);
      }
    }
    for (const [id, drawn] of this.singles) {
      if (!seen.has(id)) {
        drawn.marker.remove();
        drawn.cut?.remove();
        this.singles.delete(id);
      }
    }
    return items.length;
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
    let drawn = this.singles.get(id);
    if (!drawn) {
      const marker = L.circleMarker(at, { renderer: this.renderer, ...look(device) });
      marker.on('click', () => this.onSelect(id));
      drawn = { marker: marker.addTo(this.map), cut: null };
      this.singles.set(id, drawn);
    } else {
      drawn.marker.setLatLng(at);
      drawn.marker.setStyle(look(device));
      drawn.marker.setRadius(look(device).radius);
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

  clusterMarker(item) {
    const count = item.properties.point_count;
    const size = count < 100 ? 30 : count < 1000 ? 38 : 46;
    const rank = item.properties.rank;
    const icon = L.divIcon({
      className: `cluster-mark${rank ? ` alarm-${rank}` : ''}`,
      html: h('span', {}, formatNumber(count)),
      iconSize: [size, size],
    });
    const [lon, lat] = item.geometry.coordinates;
    const marker = L.marker([lat, lon], {
      icon,
      keyboard: true,
      title: t('map.cluster', { n: count }),
      alt: t('map.cluster', { n: count }),
    });
    marker.on('click', () => {
      const zoom = Math.min(this.index.getClusterExpansionZoom(item.properties.cluster_id), CLUSTER_MAX_ZOOM + 1);
      this.map.setView([lat, lon], zoom);
    });
    return marker;
  }
}
