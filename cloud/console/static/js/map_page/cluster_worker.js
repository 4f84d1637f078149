// The live map's clustering, off the page's main thread (a classic worker: Supercluster's
// UMD build sets self.Supercluster). The page sends every shown device's position and alarm
// rank ("load") and asks what a view shows ("query": a box and a zoom); the answer lists
// clusters (with their count, worst alarm and the zoom that opens them) and single devices.
// Re-clustering ten thousand devices a few times a second then never blocks the page.
/* global Supercluster */
importScripts('/console/vendor/supercluster/supercluster.min.js');

let index = null;
let generation = 0;
let ids = []; // kept from the last load that sent them (null: unchanged)

function load({ ids: sent, lats, lons, ranks, maxZoom }) {
  if (sent) ids = sent;
  const features = new Array(ids.length);
  for (let i = 0; i < ids.length; i += 1) {
    features[i] = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [lons[i], lats[i]] },
      properties: { id: ids[i], rank: ranks[i] },
    };
  }
  index = new Supercluster({
    radius: 60,
    maxZoom,
    map: (props) => ({ rank: props.rank }),
    reduce: (acc, props) => {
      acc.rank = Math.max(acc.rank, props.rank);
    },
  }).load(features);
}

function query({ box, zoom, seq }) {
  const clusters = [];
  const singles = [];
  for (const item of index.getClusters(box, zoom)) {
    const [lon, lat] = item.geometry.coordinates;
    if (item.properties.cluster) {
      const open = index.getClusterExpansionZoom(item.properties.cluster_id);
      clusters.push([item.id, lat, lon, item.properties.point_count, item.properties.rank, open]);
    } else singles.push(item.properties.id);
  }
  postMessage({ seq, generation, clusters, singles });
}

self.onmessage = ({ data }) => {
  if (data.load) {
    load(data.load);
    generation = data.load.generation;
  }
  if (data.query && index) query(data.query);
};
