// Geofences: every fence on the map and in a list; drawing a new one (a polygon or a circle)
// and editing one's name, kind, dwell, margin and shape; deleting one after a confirmation;
// assigning it to devices in bulk (by ids, by store, by model) or taking one device off; and
// the crossings recorded for the chosen fence.
import { api, apiAll, apiPage } from '../api.js';
import { byId, clearErrors, fill, h, showErrors } from '../dom.js';
import { fenceDrawer } from '../fence_draw.js';
import { formatNumber, formatTime, t } from '../i18n.js';
import { L, createMap, fenceLayer, sharedLayers } from '../map.js';
import { may, notify, run, start } from '../shell.js';
import { dataTable, pager } from '../table.js';

const KINDS = {
  keep_in: () => t('geofences.kind.keep_in'),
  keep_out: () => t('geofences.kind.keep_out'),
};
const CROSSINGS = {
  left: () => t('geofences.crossing.left'),
  reentered: () => t('geofences.crossing.reentered'),
};

function kindName(kind) {
  return KINDS[kind] ? KINDS[kind]() : kind;
}

function shapeText(fence) {
  if (fence.circle) return t('geofences.shape.circle', { r: formatNumber(fence.circle.radius_m, 0) });
  const rings = fence.geometry?.coordinates || [];
  const corners = fence.geometry?.type === 'Polygon' ? Math.max((rings[0] || []).length - 1, 0) : null;
  return corners === null ? t('geofences.shape.multipolygon') : t('geofences.shape.polygon', { n: corners });
}

function numberOrText(value) {
  const trimmed = String(value ?? '').trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : trimmed; // the API names a field that is not a number
}

run(async () => {
  const who = await start({ needs: 'geofence.read' });
  const canWrite = may(who, 'geofence.write');
  const map = createMap(byId('fence-map'));
  const stores = may(who, 'store.read') ? await apiAll('/stores') : [];
  const { fenceGroup } = sharedLayers(map, { stores });
  let fences = [];
  let chosen = null;
  const layers = new Map();

  const form = byId('fence-form');
  const drawState = byId('draw-state');
  const drawer = fenceDrawer(map, ({ mode, points, done }) => {
    byId('draw-finish').hidden = !(mode === 'polygon' && !done);
    byId('draw-cancel').hidden = !mode;
    byId('draw-finish').disabled = points < 3;
    if (!mode) drawState.textContent = '';
    else if (done) drawState.textContent = t('geofences.drawn');
    else if (mode === 'polygon') drawState.textContent = t('geofences.drawing_polygon', { n: points });
    else drawState.textContent = points ? t('geofences.drawing_circle_edge') : t('geofences.drawing_circle_centre');
  });

  function drawFences() {
    fenceGroup.clearLayers();
    layers.clear();
    for (const fence of fences) {
      const picked = chosen?.id === fence.id;
      const layer = fenceLayer(fence, picked ? { weight: 4, fillOpacity: 0.18 } : {});
      layer.on('click', () => {
        if (!drawer.drawing) choose(fence.id);
      });
      layer.addTo(fenceGroup);
      layers.set(fence.id, layer);
    }
  }

  function fit(ids) {
    const bounds = L.latLngBounds([]);
    for (const id of ids) {
      const layer = layers.get(id);
      if (layer) bounds.extend(layer.getBounds());
    }
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16, animate: false });
  }

  function showList() {
    const columns = [
      {
        label: t('geofences.name'),
        cell: (f) => h('button', { type: 'button', class: 'link', 'aria-pressed': String(chosen?.id === f.id), onclick: () => choose(f.id) }, f.name),
      },
      { label: t('geofences.kind'), cell: (f) => h('span', { class: `badge ${f.kind === 'keep_out' ? 'bad' : 'info'}` }, kindName(f.kind)) },
      { label: t('geofences.devices'), cell: (f) => formatNumber(f.device_count), num: true },
      { label: t('geofences.dwell_short'), cell: (f) => formatNumber(f.dwell_s), num: true },
      { label: t('geofences.margin_short'), cell: (f) => formatNumber(f.margin_m), num: true },
    ];
    fill(byId('fences'), dataTable({ columns, rows: fences, caption: t('geofences.list'), empty: t('geofences.none') }));
  }

  async function reload() {
    fences = await apiAll('/geofences');
    if (chosen) chosen = fences.find((f) => f.id === chosen.id) || null;
    drawFences();
    showList();
  }

  function editorFor(fence) {
    drawer.cancel();
    clearErrors(form);
    byId('form-title').textContent = fence ? t('geofences.edit', { name: fence.name }) : t('geofences.new');
    byId('fence-new').hidden = !fence;
    form.elements.name.value = fence?.name ?? '';
    form.elements.kind.value = fence?.kind ?? 'keep_in';
    form.elements.dwell_s.value = fence?.dwell_s ?? 60;
    form.elements.margin_m.value = fence?.margin_m ?? 25;
    byId('draw-polygon').textContent = fence ? t('geofences.redraw_polygon') : t('geofences.draw_polygon');
    byId('draw-circle').textContent = fence ? t('geofences.redraw_circle') : t('geofences.draw_circle');
  }

  async function showCrossings(page = 1) {
    if (!chosen) return;
    const answer = await apiPage('/geofence-events', { geofence_id: chosen.id, page, page_size: 20 });
    const columns = [
      { label: t('geofences.crossing.time'), cell: (e) => formatTime(e.time) },
      { label: t('alarms.col.device'), cell: (e) => h('a', { href: `/devices/${encodeURIComponent(e.device_id)}` }, e.device_id) },
      { label: t('geofences.crossing.what'), cell: (e) => (CROSSINGS[e.type] ? CROSSINGS[e.type]() : e.type) },
      { label: t('geofences.crossing.breach'), cell: (e) => (e.breach ? h('span', { class: 'badge bad' }, t('geofences.crossing.breach_yes')) : '—') },
    ];
    fill(byId('crossings'), dataTable({ columns, rows: answer.items, caption: t('geofences.crossings'), empty: t('geofences.crossings_none') }));
    fill(byId('crossing-pages'), answer.pages > 1 ? pager(answer, showCrossings) : null);
  }

  function showDetail() {
    byId('detail').hidden = !chosen;
    if (!chosen) return;
    byId('detail-title').textContent = chosen.name;
    const rows = [
      [t('geofences.kind'), kindName(chosen.kind)],
      [t('geofences.shape'), shapeText(chosen)],
      [t('geofences.dwell'), formatNumber(chosen.dwell_s)],
      [t('geofences.margin'), formatNumber(chosen.margin_m)],
      [t('geofences.devices'), formatNumber(chosen.device_count)],
      [t('geofences.updated'), formatTime(chosen.updated_at)],
    ];
    fill(byId('detail-facts'), rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
    byId('writer-tools').hidden = !canWrite;
  }

  function choose(id) {
    chosen = fences.find((f) => f.id === id) || null;
    drawFences();
    showList();
    showDetail();
    if (canWrite) editorFor(chosen);
    if (chosen) {
      fit([chosen.id]);
      showCrossings();
    }
  }

  // drawing and saving
  byId('editor').hidden = !canWrite;
  byId('draw-polygon').addEventListener('click', () => {
    drawer.start('polygon');
    byId('fence-map').focus();
  });
  byId('draw-circle').addEventListener('click', () => {
    drawer.start('circle');
    byId('fence-map').focus();
  });
  byId('draw-finish').addEventListener('click', () => drawer.finish());
  byId('draw-cancel').addEventListener('click', () => drawer.cancel());
  byId('fence-new').addEventListener('click', () => choose(null));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (drawer.drawing) {
      byId('fence-geometry-error').textContent = t('geofences.finish_first');
      return;
    }
    const body = {
      name: form.elements.name.value.trim(),
      kind: form.elements.kind.value,
      dwell_s: numberOrText(form.elements.dwell_s.value),
      margin_m: numberOrText(form.elements.margin_m.value),
      ...(drawer.shape() || {}),
    };
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    try {
      let saved;
      if (chosen) {
        saved = await api(`/geofences/${chosen.id}`, { method: 'PATCH', body: { ...body, version: chosen.version } });
      } else {
        saved = await api('/geofences', { method: 'POST', body });
      }
      drawer.cancel();
      notify(t('geofences.saved', { name: saved.name }), 'ok');
      await reload();
      choose(saved.id);
    } catch (error) {
      if (error.status === 409) await reload();
      showErrors(form, error, 'fence-');
    }
  });

  // deleting, after a confirmation (Escape or "keep" closes the dialog and deletes nothing)
  const dialog = byId('confirm-delete');
  byId('fence-delete').addEventListener('click', () => {
    byId('confirm-delete-text').textContent = t('geofences.delete_confirm', { name: chosen.name, n: chosen.device_count });
    dialog.returnValue = '';
    dialog.showModal();
  });
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'delete' || !chosen) return;
    const gone = chosen;
    try {
      await api(`/geofences/${gone.id}`, { method: 'DELETE' });
      notify(t('geofences.deleted', { name: gone.name }), 'ok');
      chosen = null;
      await reload();
      choose(null);
    } catch (error) {
      notify(error.message);
    }
  });

  // assigning and unassigning
  const assign = byId('assign');
  const storeSelect = byId('assign-store');
  fill(storeSelect, stores.map((s) => h('option', { value: s.id }, s.name)));
  if (!stores.length) assign.querySelector('option[value="store"]').remove();
  function showHow() {
    for (const field of assign.querySelectorAll('[data-how]')) field.hidden = field.dataset.how !== assign.elements.how.value;
  }
  assign.elements.how.addEventListener('change', showHow);
  assign.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(assign);
    const how = assign.elements.how.value;
    try {
      let body;
      if (how === 'ids') {
        body = { device_ids: assign.elements.device_ids.value.split(/[\s,;]+/).filter(Boolean) };
        if (!body.device_ids.length) {
          byId('assign-device_ids-error').textContent = t('geofences.ids_needed');
          return;
        }
      } else if (how === 'store') {
        const ids = (await apiAll('/devices', { store_id: storeSelect.value })).map((d) => d.id);
        if (!ids.length) {
          byId('assign-store-error').textContent = t('geofences.store_empty');
          return;
        }
        body = { device_ids: ids };
      } else {
        body = { filter: { model: assign.elements.model.value.trim() } };
      }
      const done = await api(`/geofences/${chosen.id}/devices`, { method: 'POST', body });
      notify(t('geofences.assigned', { n: done.assigned, already: done.already_assigned, total: done.device_count }), 'ok');
      assign.reset();
      showHow();
      await reload();
      showDetail();
    } catch (error) {
      showErrors(assign, error, 'assign-');
    }
  });

  const unassign = byId('unassign');
  unassign.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(unassign);
    const deviceId = unassign.elements.device_id.value.trim();
    if (!deviceId) {
      byId('unassign-device_id-error').textContent = t('geofences.ids_needed');
      return;
    }
    try {
      await api(`/geofences/${chosen.id}/devices/${encodeURIComponent(deviceId)}`, { method: 'DELETE' });
      notify(t('geofences.unassigned', { device: deviceId }), 'ok');
      unassign.reset();
      await reload();
      showDetail();
    } catch (error) {
      showErrors(unassign, error, 'unassign-');
    }
  });

  await reload();
  fit(fences.map((f) => f.id));
  if (canWrite) editorFor(null);
});
