// /admin/transfers: move devices (one id or many) to another operator or store of the subtree,
// all or none, and where devices have been: one device's moves, and the recent moves the
// audit log keeps (for a caller that may read it).
import { api, apiAll } from '../api.js';
import { pagedTable } from '../admin.js';
import { byId, clearErrors, fill, h, showErrors } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { dataTable } from '../table.js';
import { may, run, start } from '../shell.js';

run(async () => {
  const who = await start({ needs: 'device.transfer' });
  const operators = await apiAll('/operators');
  const stores = may(who, 'store.read') ? await apiAll('/stores') : [];
  const operatorName = (id) => operators.find((o) => o.id === id)?.name ?? `#${id}`;
  const storeName = (id) => (id === null ? '—' : stores.find((s) => s.id === id)?.name ?? `#${id}`);
  const toOperator = byId('move-to_operator_id');
  const toStore = byId('move-to_store_id');
  fill(toOperator, operators.map((o) => h('option', { value: o.id }, `${'· '.repeat(Math.max(0, o.depth - 1))}${o.name}`)));
  const storesOfChoice = () =>
    fill(toStore, h('option', { value: '' }, t('transfers.no_store')), stores
      .filter((s) => s.operator_id === Number(toOperator.value))
      .map((s) => h('option', { value: s.id }, s.name)));
  toOperator.addEventListener('change', storesOfChoice);
  storesOfChoice();

  const move = byId('move');
  move.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(move);
    const data = new FormData(move);
    const ids = String(data.get('device_ids')).split(/[\s,;，]+/).filter(Boolean);
    try {
      const result = await api('/devices/transfer', {
        method: 'POST',
        body: {
          device_ids: ids,
          to_operator_id: Number(data.get('to_operator_id')),
          to_store_id: data.get('to_store_id') ? Number(data.get('to_store_id')) : null,
          note: String(data.get('note')).trim() || null,
        },
      });
      fill(
        byId('move-result'),
        h('p', { class: 'notice ok' }, t('transfers.moved', {
          n: result.moved.length, operator: operatorName(result.to_operator_id), store: storeName(result.to_store_id),
        })),
        result.unchanged.length ? h('p', {}, t('transfers.unchanged', { ids: result.unchanged.join(', ') })) : null,
        result.cancelled_commands.length ? h('p', {}, t('transfers.cancelled', { n: result.cancelled_commands.length })) : null,
        result.dropped_geofence_assignments ? h('p', {}, t('transfers.dropped_fences', { n: result.dropped_geofence_assignments })) : null,
      );
      move.elements.device_ids.value = '';
      if (reloadRecent) await reloadRecent(1);
    } catch (error) {
      if (error?.status !== 401) showErrors(move, error, 'move-');
    }
  });

  const lookup = byId('lookup');
  lookup.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(lookup);
    const id = String(new FormData(lookup).get('device')).trim();
    if (!id) return;
    try {
      const moves = await api(`/devices/${encodeURIComponent(id)}/transfers`);
      fill(byId('lookup-result'), dataTable({
        caption: t('transfers.device_history'),
        rows: moves,
        columns: [
          { label: t('transfers.when'), cell: (m) => formatTime(m.moved_at) },
          { label: t('transfers.from'), cell: (m) => `${operatorName(m.from_operator_id)} / ${storeName(m.from_store_id)}` },
          { label: t('transfers.to'), cell: (m) => `${operatorName(m.to_operator_id)} / ${storeName(m.to_store_id)}` },
          { label: t('transfers.by'), cell: (m) => m.moved_by },
          { label: t('transfers.note'), cell: (m) => m.note || '—' },
        ],
      }));
    } catch (error) {
      if (error?.status !== 401) showErrors(lookup, error);
    }
  });

  let reloadRecent = null;
  if (may(who, 'audit.read')) {
    byId('recent').hidden = false;
    reloadRecent = pagedTable(byId('recent-list'), {
      path: '/audit',
      query: () => ({ action: 'POST /api/devices/transfer', status: 200 }),
      pageSize: 20,
      caption: t('transfers.recent'),
      columns: [
        { label: t('transfers.when'), cell: (e) => formatTime(e.at) },
        { label: t('transfers.by'), cell: (e) => e.actor },
        { label: t('transfers.devices'), cell: (e) => (e.detail?.moved || []).join(', ') || '—' },
        { label: t('transfers.to'), cell: (e) => `${operatorName(e.detail?.to_operator_id)} / ${storeName(e.detail?.to_store_id ?? null)}` },
      ],
    });
    await reloadRecent(1);
  }
});
