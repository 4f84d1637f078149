// /store: the store staff's phone page. The store's packs (SOC, online, power, lease: two
// requests however many packs, the list and the live snapshot); finding
// one by typing its id or scanning its QR code; cutting or restoring its power after a
// confirmation, then following the command each second until it ends.
import { api, apiAll } from '../api.js';
import { confirmed } from '../admin.js';
import { byId, fill, h } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { may, notify, run, start } from '../shell.js';

const ENDED = new Set(['done', 'failed', 'rejected', 'expired', 'cancelled']);
const COMMAND_STATES = {
  queued: () => t('store.command.queued'),
  sent: () => t('store.command.sent'),
  done: () => t('store.command.done'),
  failed: () => t('store.command.failed'),
  rejected: () => t('store.command.rejected'),
  expired: () => t('store.command.expired'),
  cancelled: () => t('store.command.cancelled'),
};

// The live snapshot's columns as an object per device (cloud/live: one request for them all).
function snapshotRows(snapshot) {
  return snapshot.rows.map((row) => Object.fromEntries(snapshot.columns.map((name, i) => [name, row[i]])));
}

function powerBadge(pack) {
  if (pack.power === null || pack.power === undefined) return h('span', { class: 'badge' }, t('store.power_unknown'));
  return pack.power
    ? h('span', { class: 'badge ok' }, t('store.power_on'))
    : h('span', { class: 'badge bad' }, t('store.power_off'));
}

function leaseBadge(pack) {
  if (pack.lease === 'leased') return h('span', { class: 'badge info' }, t('store.leased'));
  if (pack.lease === 'expired') return h('span', { class: 'badge bad' }, t('store.lease_expired'));
  if (pack.lease === 'none') return h('span', { class: 'badge' }, t('store.not_leased'));
  return null;
}

// Why the camera cannot be used, in words a person can act on (null: it can be tried).
function cameraBlocked() {
  if (!window.isSecureContext) return t('store.camera_insecure');
  if (!navigator.mediaDevices?.getUserMedia) return t('store.camera_missing');
  return null;
}

function cameraRefused(error) {
  if (error?.name === 'NotAllowedError' || error?.name === 'SecurityError') return t('store.camera_denied');
  if (error?.name === 'NotFoundError' || error?.name === 'OverconstrainedError') return t('store.camera_none');
  return t('store.camera_failed', { reason: error?.message || String(error) });
}

// A reader of QR codes from video frames: BarcodeDetector where the browser has one, else jsQR
// (loaded by the template as a classic script) on a canvas copy of the frame.
async function makeReader() {
  if ('BarcodeDetector' in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
        return async (video) => (await detector.detect(video))[0]?.rawValue ?? null;
      }
    } catch {
      // fall through to jsQR
    }
  }
  const canvas = document.createElement('canvas');
  const pen = canvas.getContext('2d', { willReadFrequently: true });
  return async (video) => {
    if (!video.videoWidth) return null;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    pen.drawImage(video, 0, 0);
    const image = pen.getImageData(0, 0, canvas.width, canvas.height);
    return window.jsQR(image.data, image.width, image.height)?.data ?? null;
  };
}

// A QR code may hold the bare id or a link ending in it (…/devices/<id>).
const idFromCode = (text) => text.trim().split(/[/?#=]/).filter(Boolean).pop() || '';

run(async () => {
  const who = await start({ needs: 'device.read' });
  const canSwitch = may(who, 'device.command.discharge');
  let storeId = who.store?.id ?? null;
  if (!who.store) {
    const stores = may(who, 'store.read') ? await apiAll('/stores') : [];
    const choice = byId('store-choice');
    fill(choice, stores.map((s) => h('option', { value: s.id }, s.name)));
    byId('store-pick').hidden = false;
    storeId = stores[0]?.id ?? null;
    choice.addEventListener('change', () => {
      storeId = Number(choice.value);
      load();
    });
  } else {
    byId('store-title').textContent = who.store.name;
  }
  let packs = [];
  let shown = null; // a pack found by id, shown alone

  function packItem(pack) {
    const actions = [];
    if (canSwitch) {
      actions.push(
        pack.power === false
          ? h('button', { type: 'button', class: 'primary', onclick: () => switchPower(pack, true) }, t('store.restore'))
          : h('button', { type: 'button', class: 'danger', onclick: () => switchPower(pack, false) }, t('store.cut')),
      );
    }
    return h(
      'li',
      { class: 'pack', dataset: { id: pack.id } },
      h('div', { class: 'pack-head' }, h('strong', { class: 'pack-id' }, pack.id), pack.name ? h('span', { class: 'hint' }, pack.name) : null),
      h('dl', { class: 'pack-facts' },
        h('dt', {}, t('store.soc')), h('dd', {}, formatNumber(pack.state?.soc_percent, 0, '%')),
        h('dt', {}, t('store.connection')), h('dd', {}, pack.state?.online
          ? h('span', { class: 'badge ok' }, t('store.online'))
          : h('span', { class: 'badge' }, t('store.offline'))),
        h('dt', {}, t('store.power')), h('dd', {}, powerBadge(pack)),
        h('dt', {}, t('store.lease')), h('dd', {}, leaseBadge(pack) ?? '—'),
      ),
      actions.length ? h('div', { class: 'pack-actions' }, actions) : null,
    );
  }

  function draw() {
    const list = shown ? [shown] : packs;
    fill(byId('packs'), list.length ? list.map(packItem) : h('li', { class: 'hint' }, t('store.no_packs')));
  }

  async function load() {
    if (storeId === null) {
      packs = [];
    } else {
      const [devices, snapshot] = await Promise.all([
        apiAll('/devices', { store_id: storeId }),
        api('/live/devices'),
      ]);
      const now = new Map(snapshotRows(snapshot).map((row) => [row.id, row]));
      packs = devices.map((device) => {
        const row = now.get(device.id) || {};
        return { ...device, state: row, power: row.discharge_mos ?? null, lease: row.lease ?? null };
      });
    }
    draw();
  }

  async function find(id) {
    const form = byId('find');
    byId('find-error').textContent = '';
    if (!id) {
      shown = null;
      draw();
      return;
    }
    byId('find-id').value = id;
    const known = packs.find((p) => p.id.toLowerCase() === id.toLowerCase());
    if (known) {
      shown = known;
      draw();
      return;
    }
    byId('find-error').textContent = t('store.not_found', { id });
    form.querySelector('#find-id').focus();
  }

  async function follow(cmdId, line) {
    const status = byId('command-state');
    for (;;) {
      const command = await api(`/commands/${encodeURIComponent(cmdId)}`);
      const words = COMMAND_STATES[command.state] ? COMMAND_STATES[command.state]() : command.state;
      status.textContent = `${line} ${words}${command.result_reason ? ` (${command.result_reason})` : ''}`;
      status.dataset.state = command.state;
      if (ENDED.has(command.state)) {
        await load();
        if (shown) shown = packs.find((p) => p.id === shown.id) ?? null;
        draw();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function switchPower(pack, on) {
    const sure = on
      ? await confirmed(t('store.restore_title'), t('store.restore_text', { id: pack.id }), t('store.restore'), false)
      : await confirmed(t('store.cut_title'), t('store.cut_text', { id: pack.id }), t('store.cut'));
    if (!sure) return;
    try {
      const command = await api(`/devices/${encodeURIComponent(pack.id)}/commands`, {
        method: 'POST',
        body: { type: 'set_discharge', args: { on }, reason: on ? 'store: restore power' : 'store: cut power' },
      });
      const status = byId('command-state');
      status.hidden = false;
      const line = on ? t('store.restoring', { id: pack.id }) : t('store.cutting', { id: pack.id });
      await follow(command.cmd_id, line);
    } catch (error) {
      if (error?.status !== 401) notify(error.message);
    }
  }

  byId('find').addEventListener('submit', (event) => {
    event.preventDefault();
    find(String(new FormData(event.target).get('id')).trim());
  });

  let stream = null;
  const stop = () => {
    for (const track of stream?.getTracks() ?? []) track.stop();
    stream = null;
    byId('camera').hidden = true;
  };
  byId('camera-stop').addEventListener('click', stop);
  byId('scan').addEventListener('click', async () => {
    const blocked = cameraBlocked();
    if (blocked) {
      byId('find-error').textContent = blocked;
      byId('find-id').focus();
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (error) {
      byId('find-error').textContent = cameraRefused(error);
      byId('find-id').focus();
      return;
    }
    byId('camera').hidden = false;
    const video = byId('camera-video');
    video.srcObject = stream;
    await video.play();
    const read = await makeReader();
    const look = async () => {
      if (!stream) return;
      const text = await read(video).catch(() => null);
      if (text) {
        stop();
        await find(idFromCode(text));
        return;
      }
      setTimeout(look, 200);
    };
    look();
  });

  await load();
});
