// The alarm list: filters kept in the address (a link or a reload shows the same list), the
// counts of the filtered set by severity and by state, paged rows with checkboxes to resolve
// several at once with one note, and the types the person has muted for themselves.
import { api, apiAll, apiPage } from '../api.js';
import {
  ALARM_TYPES,
  SEVERITY_ORDER,
  STATE_ORDER,
  alarmTitle,
  severityBadge,
  severityName,
  stateBadge,
  stateName,
  typeName,
} from '../alarm_words.js';
import { byId, clearErrors, fill, h, showErrors } from '../dom.js';
import { formatNumber, formatTime, t } from '../i18n.js';
import { may, notify, run, start } from '../shell.js';
import { dataTable, pager } from '../table.js';

const PAGE_SIZE = 50;
const FIELDS = ['type', 'severity', 'state', 'device_id', 'store_id', 'from', 'to'];

/** A datetime-local input's value as the API's ISO time (the browser's zone), or ''. */
function isoOf(local) {
  if (!local) return '';
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

/** An ISO time as a datetime-local value in the browser's zone. */
function localOf(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return '';
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function options(select, values, name) {
  select.append(...values.map((value) => h('option', { value }, name(value))));
}

/** The filters as the address says them; the open alarms when it says nothing. */
function filtersFromAddress() {
  const params = new URLSearchParams(location.search);
  const wanted = { state: params.has('state') ? params.get('state') : 'open' };
  for (const field of FIELDS) if (field !== 'state' && params.get(field)) wanted[field] = params.get(field);
  wanted.include_muted = params.get('include_muted') === 'true';
  wanted.page = Number(params.get('page')) || 1;
  return wanted;
}

function showFilters(form, wanted) {
  for (const field of FIELDS) {
    const input = form.elements[field];
    const value = wanted[field] || '';
    input.value = input.type === 'datetime-local' ? localOf(value) : value;
  }
  form.elements.include_muted.checked = wanted.include_muted;
}

function readFilters(form) {
  const wanted = { page: 1, include_muted: form.elements.include_muted.checked };
  for (const field of FIELDS) {
    const input = form.elements[field];
    const value = input.type === 'datetime-local' ? isoOf(input.value) : input.value.trim();
    if (value) wanted[field] = value;
  }
  return wanted;
}

function keepInAddress(wanted) {
  const params = new URLSearchParams(location.search);
  for (const field of [...FIELDS, 'include_muted', 'page']) params.delete(field);
  for (const field of FIELDS) params.set(field, wanted[field] || '');
  if (wanted.include_muted) params.set('include_muted', 'true');
  if (wanted.page > 1) params.set('page', String(wanted.page));
  for (const field of FIELDS) if (field !== 'state' && !params.get(field)) params.delete(field);
  history.replaceState(null, '', `${location.pathname}?${params}`);
}

/** The API's query for the filters (page aside). */
function query(wanted) {
  const out = {};
  for (const field of FIELDS) if (wanted[field]) out[field] = wanted[field];
  if (wanted.include_muted) out.include_muted = 'true';
  return out;
}

/** How many alarms of the filtered set each severity and each state holds (one total each). */
async function counts(wanted) {
  const base = query(wanted);
  const asks = [
    ...SEVERITY_ORDER.map((severity) => ['severity', severity]),
    ...STATE_ORDER.map((state) => ['state', state]),
  ];
  const totals = await Promise.all(
    asks.map(([field, value]) => apiPage('/alarms', { ...base, [field]: value, page_size: 1 }).then((p) => p.total)),
  );
  return asks.map(([field, value], i) => ({ field, value, total: totals[i] }));
}

function countItem({ field, value, total }) {
  const name = field === 'severity' ? severityName(value) : stateName(value);
  return h('li', { dataset: { count: `${field}-${value}` } }, h('span', { class: 'count-name' }, name), ' ', h('strong', {}, formatNumber(total)));
}

run(async () => {
  const who = await start({ needs: 'alarm.read' });
  const canResolve = may(who, 'alarm.resolve');
  const form = byId('filters');
  options(byId('f-type'), ALARM_TYPES, typeName);
  options(byId('f-severity'), SEVERITY_ORDER, severityName);
  options(byId('f-state'), STATE_ORDER, stateName);
  if (may(who, 'store.read') && !who.store) {
    const stores = await apiAll('/stores');
    options(byId('f-store_id'), stores.map((s) => String(s.id)), (id) => stores.find((s) => String(s.id) === id).name);
    byId('store-field').hidden = stores.length === 0;
  }

  let wanted = filtersFromAddress();
  let shown = [];
  const selected = new Set();
  const resolveForm = byId('resolve');
  resolveForm.hidden = !canResolve;
  const resolveButton = byId('resolve-button');

  function sayHowMany() {
    resolveButton.disabled = selected.size === 0;
    resolveButton.textContent = t('alarms.resolve.selected_n', { n: selected.size });
  }

  function checkbox(alarm) {
    return h('input', {
      type: 'checkbox',
      'aria-label': t('alarms.select', { id: alarm.id }),
      checked: selected.has(alarm.id),
      disabled: alarm.state !== 'open',
      onchange: (event) => {
        if (event.target.checked) selected.add(alarm.id);
        else selected.delete(alarm.id);
        sayHowMany();
      },
    });
  }

  function allBox() {
    const open = shown.filter((a) => a.state === 'open');
    const box = h('input', {
      type: 'checkbox',
      id: 'select-all',
      'aria-label': t('alarms.select_all'),
      checked: open.length > 0 && open.every((a) => selected.has(a.id)),
      disabled: open.length === 0,
      onchange: (event) => {
        for (const alarm of open) {
          if (event.target.checked) selected.add(alarm.id);
          else selected.delete(alarm.id);
        }
        for (const row of byId('list').querySelectorAll('tbody input[type=checkbox]:not(:disabled)')) {
          row.checked = event.target.checked;
        }
        sayHowMany();
      },
    });
    return box;
  }

  const columns = [
    ...(canResolve ? [{ label: '', cell: checkbox }] : []),
    { label: t('alarms.col.type'), cell: (a) => h('a', { href: `/alarms/${a.id}` }, alarmTitle(a)) },
    { label: t('alarms.col.device'), cell: (a) => h('a', { href: `/devices/${encodeURIComponent(a.device_id)}` }, a.device_id) },
    { label: t('alarms.col.severity'), cell: (a) => severityBadge(a.severity) },
    { label: t('alarms.col.state'), cell: stateBadge },
    { label: t('alarms.col.count'), cell: (a) => formatNumber(a.count), num: true },
    { label: t('alarms.col.latest'), cell: (a) => formatTime(a.latest_at) },
    { label: t('alarms.col.first'), cell: (a) => formatTime(a.first_at) },
  ];

  // Filters change faster than the API answers: only the newest load may draw, so an older
  // answer arriving late never replaces a newer list.
  let newest = 0;
  async function load() {
    const mine = ++newest;
    clearErrors(form);
    keepInAddress(wanted);
    let answer;
    try {
      [answer] = await Promise.all([
        apiPage('/alarms', { ...query(wanted), page: wanted.page, page_size: PAGE_SIZE }),
        counts(wanted).then((found) => {
          if (mine === newest) fill(byId('counts'), found.map(countItem));
        }),
      ]);
    } catch (error) {
      if (mine !== newest) return;
      if (error.status !== 422) throw error;
      showErrors(form, error, 'f-');
      return;
    }
    if (mine !== newest) return;
    shown = answer.items;
    for (const id of [...selected]) if (!shown.some((a) => a.id === id && a.state === 'open')) selected.delete(id);
    sayHowMany();
    const table = dataTable({
      columns,
      rows: shown,
      caption: t('nav.alarms'),
      href: (a) => `/alarms/${a.id}`,
      empty: t('alarms.none'),
    });
    if (canResolve) table.querySelector('thead th').append(allBox());
    fill(byId('list'), table);
    fill(byId('pages'), pager(answer, (page) => {
      wanted = { ...wanted, page };
      load();
    }));
  }

  showFilters(form, wanted);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    wanted = readFilters(form);
    load();
  });
  form.addEventListener('reset', (event) => {
    event.preventDefault();
    wanted = { state: 'open', include_muted: false, page: 1 };
    showFilters(form, wanted);
    load();
  });
  for (const select of form.querySelectorAll('select, input[type=checkbox]')) {
    select.addEventListener('change', () => {
      wanted = readFilters(form);
      load();
    });
  }

  resolveForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(resolveForm);
    try {
      const done = await api('/alarms/resolve', {
        method: 'POST',
        body: { alarm_ids: [...selected], note: byId('resolve-note').value },
      });
      selected.clear();
      resolveForm.reset();
      notify(t('alarms.resolve.done', { n: done.resolved, already: done.already_resolved }), 'ok');
      await load();
    } catch (error) {
      showErrors(resolveForm, error, 'resolve-');
    }
  });

  await load();
  await showMutes(load);
});

/** A checkbox per alarm type: checked while the person has it muted. */
async function showMutes(reload) {
  const mutes = await api('/alarm-mutes');
  const muted = new Set(mutes.filter((m) => m.in_force).map((m) => m.type));
  const items = ALARM_TYPES.map((type) => {
    const id = `mute-${type}`;
    const box = h('input', {
      type: 'checkbox',
      id,
      checked: muted.has(type),
      onchange: async (event) => {
        const on = event.target.checked;
        try {
          if (on) await api(`/alarm-mutes/${type}`, { method: 'PUT', body: {} });
          else await api(`/alarm-mutes/${type}`, { method: 'DELETE' });
          await reload();
          notify(on ? t('alarms.mutes.on', { type: typeName(type) }) : t('alarms.mutes.off', { type: typeName(type) }), 'ok');
        } catch (error) {
          event.target.checked = !on;
          notify(error.message);
        }
      },
    });
    return h('li', {}, box, h('label', { for: id }, typeName(type)));
  });
  fill(byId('mutes'), items);
}
