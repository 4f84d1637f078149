// Drawing a geofence on a Leaflet map with Leaflet's own layers and events (no drawing
// package): a polygon by clicking its corners (finish with the button, a double click or
// Enter), a circle by clicking its centre and then a point of its edge. Escape cancels.
// By keyboard, the map's arrows move it under the cross in its middle, and Space puts a
// point there.
import { L } from './map.js';

const LOOK = { color: '#6d28d9', weight: 2, dashArray: '6 4', fillOpacity: 0.1 };

/**
 * A drawing tool on `map`. `onChange(state)` hears every step: { mode, points, done }.
 * `start('polygon' | 'circle')` begins, `finish()` ends a polygon, `cancel()` drops it,
 * `shape()` is the API's part of a fence body ({ geometry } or { circle }) once done.
 */
export function fenceDrawer(map, onChange = () => {}) {
  let mode = null;
  let points = [];
  let centre = null;
  let radius = 0;
  let done = false;
  const sketch = L.layerGroup().addTo(map);

  function tell() {
    onChange({ mode, points: centre ? 1 : points.length, done });
  }

  function redraw(cursor = null) {
    sketch.clearLayers();
    if (mode === 'polygon') {
      const line = cursor && !done ? [...points, cursor] : points;
      if (line.length >= 3) L.polygon(line, LOOK).addTo(sketch);
      else if (line.length === 2) L.polyline(line, LOOK).addTo(sketch);
      for (const point of points) L.circleMarker(point, { radius: 4, color: LOOK.color }).addTo(sketch);
    } else if (mode === 'circle' && centre) {
      const edge = cursor && !done ? centre.distanceTo(cursor) : radius;
      L.circle(centre, { ...LOOK, radius: Math.max(edge, 1) }).addTo(sketch);
      L.circleMarker(centre, { radius: 4, color: LOOK.color }).addTo(sketch);
    }
  }

  function stopListening() {
    map.off('click', click);
    map.off('mousemove', move);
    map.off('dblclick', finish);
    map.getContainer().classList.remove('drawing');
    map.doubleClickZoom.enable();
  }

  function click(event) {
    if (done) return;
    if (mode === 'polygon') {
      const last = points[points.length - 1];
      if (!last || !last.equals(event.latlng)) points.push(event.latlng); // a double click's twin
    } else if (!centre) {
      centre = event.latlng;
    } else {
      radius = centre.distanceTo(event.latlng);
      done = true;
      stopListening();
    }
    redraw();
    tell();
  }

  function move(event) {
    redraw(event.latlng);
  }

  function finish() {
    if (mode !== 'polygon' || points.length < 3) return false;
    done = true;
    stopListening();
    redraw();
    tell();
    return true;
  }

  function cancel() {
    stopListening();
    mode = null;
    points = [];
    centre = null;
    done = false;
    sketch.clearLayers();
    tell();
  }

  function start(kind) {
    cancel();
    mode = kind;
    map.doubleClickZoom.disable();
    map.getContainer().classList.add('drawing');
    map.on('click', click);
    map.on('mousemove', move);
    if (kind === 'polygon') map.on('dblclick', finish);
    tell();
  }

  function shape() {
    if (!done) return null;
    if (mode === 'circle') return { circle: { lat: centre.lat, lon: centre.lng, radius_m: Math.round(radius) } };
    const ring = points.map((p) => [p.lng, p.lat]);
    return { geometry: { type: 'Polygon', coordinates: [[...ring, ring[0]]] } };
  }

  map.getContainer().addEventListener('keydown', (event) => {
    if (!mode || done) return;
    if (event.key === 'Escape') cancel();
    if (event.key === ' ') {
      event.preventDefault();
      click({ latlng: map.getCenter() });
    }
    if (event.key === 'Enter' && finish()) event.preventDefault();
  });

  return { start, finish, cancel, shape, get drawing() { return mode !== null && !done; } };
}
