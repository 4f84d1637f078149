// /admin/stores: the stores of the caller's subtree; making, editing and deleting one, its
// position picked on a map (click to set, drag the marker), address, phone, manager, hours.
import { api, apiAll } from '../api.js';
import { confirmed, field, formDialog, input, onFilter, pagedTable, rowButton, select } from '../admin.js';
import { byId, h } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { createMap, L } from '../map.js';
import { may, notify, run, start } from '../shell.js';

const DAYS = [
  ['mon', () => t('stores.day.mon')],
  ['tue', () => t('stores.day.tue')],
  ['wed', () => t('stores.day.wed')],
  ['thu', () => t('stores.day.thu')],
  ['fri', () => t('stores.day.fri')],
  ['sat', () => t('stores.day.sat')],
  ['sun', () => t('stores.day.sun')],
];

// "08:00-12:00, 14:00-20:00" <-> [["08:00", "12:00"], ["14:00", "20:00"]]; the API checks
// the times and names a fault by its place (opening_hours.mon.1).
const hoursText = (intervals = []) => intervals.map(([open, close]) => `${open}-${close}`).join(', ');
function hoursOf(text) {
  const parts = text.split(/[,，;]/).map((p) => p.trim()).filter(Boolean);
  return parts.map((part) => part.split(/\s*[-–~]\s*/));
}

function positionPicker(store) {
  const lat = input('lat', { type: 'number', step: 'any', value: store?.lat ?? '' });
  const lon = input('lon', { type: 'number', step: 'any', value: store?.lon ?? '' });
  const box = h('div', { class: 'map picker-map', id: 'store-map', role: 'application', 'aria-label': t('stores.map_help') });
  const picker = h(
    'fieldset',
    { class: 'position' },
    h('legend', {}, t('stores.position')),
    h('p', { class: 'hint' }, t('stores.map_help')),
    box,
    h('div', { class: 'pair' }, field('store-lat', t('stores.lat'), lat), field('store-lon', t('stores.lon'), lon)),
  );
  let map = null;
  let marker = null;
  function place(latLng, pan = false) {
    lat.value = latLng.lat.toFixed(6);
    lon.value = latLng.lng.toFixed(6);
    if (!marker) {
      marker = L.marker(latLng, { draggable: true, keyboard: true, title: t('stores.marker') }).addTo(map);
      marker.on('dragend', () => place(marker.getLatLng()));
    } else marker.setLatLng(latLng);
    if (pan) map.panTo(latLng);
  }
  function begin() {
    const has = store && store.lat !== null && store.lon !== null;
    map = has ? createMap(box, { center: [store.lat, store.lon], zoom: 15 }) : createMap(box);
    if (has) place(L.latLng(store.lat, store.lon));
    map.on('click', (event) => place(event.latlng));
    for (const typed of [lat, lon]) {
      typed.addEventListener('change', () => {
        if (lat.value !== '' && lon.value !== '') place(L.latLng(Number(lat.value), Number(lon.value)), true);
      });
    }
  }
  return { picker, begin };
}

function storeForm(store, operators) {
  const body = [field('store-name', t('stores.name'), input('name', { value: store?.name ?? '', required: true }))];
  if (operators.length > 1 && !store) {
    body.push(field('store-operator_id', t('stores.operator'), select('operator_id', operators.map((o) => [o.id, o.name]))));
  }
  body.push(
    field('store-address', t('stores.address'), input('address', { value: store?.address ?? '' })),
    h(
      'div',
      { class: 'pair' },
      field('store-manager', t('stores.manager'), input('manager', { value: store?.manager ?? '' })),
      field('store-phone', t('stores.phone'), input('phone', { type: 'tel', value: store?.phone ?? '' })),
    ),
  );
  const hours = h(
    'fieldset',
    { class: 'hours' },
    h('legend', {}, t('stores.hours')),
    h('p', { class: 'hint' }, t('stores.hours_help')),
    DAYS.map(([day, label]) =>
      field(`store-opening_hours.${day}`, label(), input(`hours-${day}`, { value: hoursText(store?.opening_hours?.[day]), placeholder: '08:00-20:00' })),
    ),
    h('p', { class: 'error', id: 'store-opening_hours-error' }),
  );
  const { picker, begin } = positionPicker(store);
  body.push(hours, picker);
  return { body, begin };
}

function values(form) {
  const data = new FormData(form);
  const text = (name) => String(data.get(name) ?? '').trim();
  const body = { name: text('name'), address: text('address'), manager: text('manager'), phone: text('phone') };
  if (data.get('operator_id')) body.operator_id = Number(data.get('operator_id'));
  body.opening_hours = {};
  for (const [day] of DAYS) {
    const typed = text(`hours-${day}`);
    if (typed) body.opening_hours[day] = hoursOf(typed);
  }
  const lat = text('lat');
  const lon = text('lon');
  body.lat = lat === '' ? null : Number(lat);
  body.lon = lon === '' ? null : Number(lon);
  return body;
}

// The API names an interval's fault "opening_hours.mon.1": show it under that day's input.
function dayErrors(error) {
  for (const item of error.problem?.errors || []) {
    const match = /^opening_hours\.(\w+)/.exec(item.field || '');
    if (match) item.field = `opening_hours.${match[1]}`;
  }
  return error;
}

run(async () => {
  const who = await start({ needs: 'store.read' });
  const writable = may(who, 'store.write');
  const operators = may(who, 'operator.read') && !who.store ? await apiAll('/operators') : [who.operator];
  const operatorName = (id) => operators.find((o) => o.id === id)?.name ?? `#${id}`;
  const filter = byId('store-filter');

  async function open(store) {
    const { body, begin: startMap } = storeForm(store, operators);
    const dialogDone = formDialog({
      id: 'store-form',
      title: store ? t('stores.edit_title', { name: store.name }) : t('stores.new'),
      body,
      submit: store ? t('admin.save') : t('admin.create'),
      prefix: 'store-',
      wide: true,
      save: async (form) => {
        try {
          const path = store ? `/stores/${store.id}` : '/stores';
          return await api(path, { method: store ? 'PATCH' : 'POST', body: values(form) });
        } catch (error) {
          throw dayErrors(error);
        }
      },
    });
    startMap();
    const saved = await dialogDone;
    if (saved) {
      notify(store ? t('stores.saved', { name: saved.name }) : t('stores.created', { name: saved.name }), 'ok');
      await reload();
    }
  }

  async function remove(store) {
    const sure = await confirmed(t('stores.delete_title'), t('stores.delete_text', { name: store.name }), t('admin.delete'));
    if (!sure) return;
    try {
      await api(`/stores/${store.id}`, { method: 'DELETE' });
      notify(t('stores.deleted', { name: store.name }), 'ok');
      await reload();
    } catch (error) {
      notify(error.message);
    }
  }

  const columns = [
    { label: t('stores.name'), cell: (s) => s.name },
    { label: t('stores.operator'), cell: (s) => operatorName(s.operator_id) },
    { label: t('stores.address'), cell: (s) => s.address || '—' },
    { label: t('stores.manager'), cell: (s) => s.manager || '—' },
    { label: t('stores.phone'), cell: (s) => s.phone || '—' },
    { label: t('stores.position'), cell: (s) => (s.lat === null ? '—' : `${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}`) },
    { label: t('stores.devices'), num: true, cell: (s) => formatNumber(s.device_count) },
    { label: t('stores.accounts'), num: true, cell: (s) => formatNumber(s.account_count) },
  ];
  if (writable) {
    columns.push({
      label: t('admin.actions'),
      cell: (s) =>
        h(
          'div',
          { class: 'row-actions' },
          rowButton(t('admin.edit'), () => open(s)),
          who.store ? null : rowButton(t('admin.delete'), () => remove(s), 'danger'),
        ),
    });
  }
  const reload = pagedTable(byId('store-list'), {
    path: '/stores',
    query: () => ({ q: new FormData(filter).get('q') }),
    columns,
    caption: t('nav.stores'),
  });
  onFilter('store-filter', reload, 'store-');
  await reload(1);
  const create = byId('store-new');
  create.hidden = !writable || Boolean(who.store);
  create.addEventListener('click', () => open(null));
});
