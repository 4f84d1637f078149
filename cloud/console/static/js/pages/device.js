// One device: who it is, its BMS now, its history as charts, CAN signals and events, a day's
// trajectory replayed on the map, commands followed to their end, its lease, fences, alarms
// and transfers. Each part shows only what the caller may see or do. The page loads what it
// needs when opened; where the API has the device's live stream it follows it too.
import { api } from '../api.js';
import { byId, fill, h } from '../dom.js';
import { formatAgo, formatTime, t } from '../i18n.js';
import { follow } from '../live.js';
import { may, notify, run, start } from '../shell.js';
import { showBms } from './device/bms.js';
import { setUpCharts } from './device/charts.js';
import { setUpCommands } from './device/commands.js';
import { setUpLease } from './device/lease.js';
import { setUpPlayback } from './device/playback.js';
import { showAlarms, showCan, showEvents, showFences, showTransfers } from './device/related.js';

const deviceId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop());
const base = `/devices/${encodeURIComponent(deviceId)}`;
function owners(who) {
  const operators = new Map([[who.operator?.id, who.operator?.name]]);
  const stores = new Map(who.store ? [[who.store.id, who.store.name]] : []);
  return {
    async learn(operatorId, storeId) {
      if (!operators.has(operatorId) && may(who, 'operator.read')) {
        operators.set(operatorId, (await api(`/operators/${operatorId}`).catch(() => null))?.name);
      }
      if (storeId !== null && !stores.has(storeId) && may(who, 'store.read')) {
        stores.set(storeId, (await api(`/stores/${storeId}`).catch(() => null))?.name);
      }
    },
    operator: (id) => operators.get(id) || `#${id}`,
    store: (id) => (id === null || id === undefined ? t('device.no_store') : stores.get(id) || `#${id}`),
  };
}

function showIdentity(device, state, names) {
  const kinds = { pack: t('device.kind.pack'), vehicle: t('device.kind.vehicle') };
  const online = state.online
    ? h('span', { class: 'badge ok', id: 'online' }, t('device.online'))
    : h('span', { class: 'badge', id: 'online' }, t('device.offline'));
  const rows = [
    [t('device.id'), h('code', {}, device.id)],
    [t('device.name'), device.name || '—'],
    [t('device.model'), device.model || '—'],
    [t('device.serial'), device.serial || '—'],
    [t('device.kind'), kinds[device.kind] || device.kind],
    [t('device.operator'), names.operator(device.operator_id)],
    [t('device.store'), names.store(device.store_id)],
    [t('device.status'), online],
    [t('device.last_seen'), state.last_seen_at ? `${formatTime(state.last_seen_at)} (${formatAgo(state.last_seen_at)})` : t('time.never')],
  ];
  fill(byId('identity-facts'), rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const title = byId('device-title');
  fill(title, device.name || t('device.title'), ' ', h('code', {}, device.id));
  document.title = `${device.name || device.id} · ${t('app.name')}`;
}

/** The BMS sample the state's figures came from (the state has no balancing of its own). */
async function latestSample(state) {
  if (!state.bms_time) return null;
  const at = new Date(state.bms_time);
  const answer = await api(`${base}/bms`, {
    query: { from: at.toISOString(), to: new Date(at.getTime() + 1).toISOString(), limit: 1 },
  });
  return answer.rows?.[0] || null;
}

function hideWithout(who) {
  for (const element of document.querySelectorAll('#related [data-needs]')) {
    element.hidden = !may(who, element.dataset.needs);
  }
}

async function main() {
  const who = await start({ needs: 'device.read' });
  hideWithout(who);
  const names = owners(who);
  const [device, state] = await Promise.all([api(base), api(`${base}/state`)]);
  await names.learn(device.operator_id, device.store_id);
  showIdentity(device, state, names);
  let bmsTime = state.bms_time;
  let sample = await latestSample(state);
  showBms(state, sample);

  const fences = may(who, 'geofence.read') ? await api(`${base}/geofences`) : [];
  let streaming = false;
  const commands = setUpCommands(deviceId, who, { live: () => streaming });
  const loads = [
    setUpCharts(deviceId),
    setUpPlayback(deviceId, fences),
    showCan(deviceId, state),
    showEvents(deviceId),
    setUpLease(deviceId, who, commands),
    showTransfers(deviceId, names),
  ];
  if (may(who, 'geofence.read')) showFences(fences);
  if (may(who, 'alarm.read')) loads.push(showAlarms(deviceId));
  const results = await Promise.allSettled(loads);
  for (const result of results) if (result.status === 'rejected') notify(result.reason?.message || String(result.reason));

  streaming = true;
  follow(`${base}/live`, {
    async state(next) {
      showIdentity(device, next, names);
      if (next.bms_time !== bmsTime) {
        bmsTime = next.bms_time;
        sample = await latestSample(next).catch(() => sample);
      }
      showBms(next, sample);
    },
    command: (command) => commands.changed(command),
    alarm: () => (may(who, 'alarm.read') ? showAlarms(deviceId) : null),
    async resync() {
      const fresh = await api(`${base}/state`);
      showIdentity(device, fresh, names);
      showBms(fresh, await latestSample(fresh).catch(() => sample));
      commands.changed({});
    },
  });
}

run(main);
