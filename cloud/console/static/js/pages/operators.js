// /admin/operators: the caller's operator tree, each branch with its fleet (devices online of
// all below it), capability flags and sign-in policy; making and editing sub-operators.
import { api, apiAll } from '../api.js';
import { checklist, field, formDialog, input, rowButton, select, ticked, yesNo } from '../admin.js';
import { byId, fill, h } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { dataTable } from '../table.js';
import { may, notify, run, start } from '../shell.js';

// the flags' names for people, written out (the catalog test finds each key)
const FLAG_NAMES = {
  charge_discharge_control: () => t('operators.flag.charge_discharge_control'),
  bms_param_write: () => t('operators.flag.bms_param_write'),
  cutoff_control: () => t('operators.flag.cutoff_control'),
  custom_billing: () => t('operators.flag.custom_billing'),
  offline_payment: () => t('operators.flag.offline_payment'),
  independent_settlement: () => t('operators.flag.independent_settlement'),
};
const flagName = (flag) => (FLAG_NAMES[flag] ? FLAG_NAMES[flag]() : flag);

// Indented by the depth below the caller's own operator (the top of what it sees).
function nameCell(operator, top) {
  const below = operator.depth - top;
  const cell = h('span', { class: 'tree-name' }, below ? '└ ' : '', operator.name);
  cell.style.paddingLeft = `${Math.max(0, below - 1) * 1.2}rem`;
  return cell;
}

function flagBadges(flags) {
  if (!flags.length) return h('span', { class: 'hint' }, t('operators.no_flags'));
  return h('ul', { class: 'tags' }, flags.map((flag) => h('li', { class: 'badge info' }, flagName(flag))));
}

function operatorForm(prefix, { operator = null, parents, own }) {
  const parentId = operator ? operator.parent_id : parents[0]?.id;
  const parentOf = (id) => parents.find((p) => p.id === Number(id)) || null;
  const flagsFor = (id) => (parentOf(id)?.flags ?? operator?.flags ?? []).map((f) => [f, flagName(f)]);
  const body = [field(`${prefix}name`, t('operators.name'), input('name', { value: operator?.name ?? '', required: true }))];
  if (!operator) {
    const parent = select('parent_id', parents.map((p) => [p.id, `${'· '.repeat(p.depth)}${p.name}`]), parentId);
    parent.addEventListener('change', () => {
      const box = parent.form.querySelector(`#${prefix}flags`);
      box.replaceWith(checklist(prefix, 'flags', t('operators.flags'), flagsFor(parent.value)));
    });
    body.push(field(`${prefix}parent_id`, t('operators.parent'), parent));
  }
  body.push(checklist(prefix, 'flags', t('operators.flags'), flagsFor(parentId), operator?.flags ?? [], own));
  if (own) body.push(h('p', { class: 'hint' }, t('operators.own_flags')));
  const mfa = input('mfa_required', { type: 'checkbox', checked: operator?.mfa_required ?? false });
  body.push(h('div', { class: 'check' }, mfa, h('label', { for: `${prefix}mfa_required` }, t('operators.mfa_required'))));
  mfa.id = `${prefix}mfa_required`;
  body.push(h('p', { class: 'error', id: `${prefix}mfa_required-error` }));
  return body;
}

function values(form, own) {
  const data = new FormData(form);
  const body = { name: String(data.get('name') || '').trim(), mfa_required: form.elements.mfa_required.checked };
  if (!own) body.flags = ticked(form, 'flags');
  if (data.get('parent_id')) body.parent_id = Number(data.get('parent_id'));
  return body;
}

run(async () => {
  const who = await start({ needs: 'operator.read' });
  const writable = may(who, 'operator.write');
  const target = byId('operator-tree');

  async function edit(operator, all) {
    const own = operator.id === who.operator.id;
    const saved = await formDialog({
      id: 'operator-edit',
      title: t('operators.edit_title', { name: operator.name }),
      body: operatorForm('edit-', { operator, parents: all, own }),
      submit: t('admin.save'),
      prefix: 'edit-',
      save: (form) => api(`/operators/${operator.id}`, { method: 'PATCH', body: values(form, own) }),
    });
    if (saved) {
      notify(t('operators.saved', { name: saved.name }), 'ok');
      await load();
    }
  }

  async function load() {
    const all = await apiAll('/operators');
    const top = Math.min(...all.map((o) => o.depth));
    const columns = [
      { label: t('operators.name'), cell: (o) => nameCell(o, top) },
      {
        label: t('operators.online_of_total'),
        num: true,
        cell: (o) => `${formatNumber(o.subtree_online_count)} / ${formatNumber(o.subtree_device_count)}`,
      },
      { label: t('operators.own_devices'), num: true, cell: (o) => formatNumber(o.device_count) },
      { label: t('operators.stores'), num: true, cell: (o) => formatNumber(o.store_count) },
      { label: t('operators.accounts'), num: true, cell: (o) => formatNumber(o.account_count) },
      { label: t('operators.flags'), cell: (o) => flagBadges(o.flags) },
      { label: t('operators.mfa'), cell: (o) => yesNo(o.mfa_required) },
    ];
    if (writable) {
      columns.push({
        label: t('admin.actions'),
        cell: (o) => rowButton(t('admin.edit'), () => edit(o, all)),
      });
    }
    fill(target, dataTable({ columns, rows: all, caption: t('operators.tree') }));
    return all;
  }

  let all = await load();
  const create = byId('operator-new');
  create.hidden = !writable;
  create.addEventListener('click', async () => {
    all = await apiAll('/operators');
    const made = await formDialog({
      id: 'operator-create',
      title: t('operators.new'),
      body: operatorForm('new-', { parents: all, own: false }),
      submit: t('admin.create'),
      prefix: 'new-',
      save: (form) => api('/operators', { method: 'POST', body: values(form, false) }),
    });
    if (made) {
      notify(t('operators.created', { name: made.name }), 'ok');
      all = await load();
    }
  });
});
