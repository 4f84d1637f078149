// /admin/accounts: the accounts of the caller's subtree with filters; making one (its
// generated password shown once), its roles, disabling and enabling it, resetting its
// password or second factor, ending its sessions.
import { api, apiAll } from '../api.js';
import {
  checklist, confirmed, field, formDialog, input, onFilter, pagedTable, rowButton, select, showOnce, ticked,
} from '../admin.js';
import { byId, h } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { may, notify, run, start } from '../shell.js';

function stateBadge(account) {
  if (account.disabled) return h('span', { class: 'badge bad' }, t('accounts.disabled'));
  if (account.locked_until && new Date(account.locked_until) > new Date()) {
    return h('span', { class: 'badge warn' }, t('accounts.locked'));
  }
  return h('span', { class: 'badge ok' }, t('accounts.active'));
}

run(async () => {
  const who = await start({ needs: 'account.read' });
  const writable = may(who, 'account.write');
  const operators = may(who, 'operator.read') && !who.store ? await apiAll('/operators') : [who.operator];
  const stores = may(who, 'store.read') ? await apiAll('/stores') : who.store ? [who.store] : [];
  const roles = may(who, 'role.read') ? await apiAll('/roles') : [];
  const operatorName = (id) => operators.find((o) => o.id === id)?.name ?? `#${id}`;
  const storeName = (id) => (id === null ? '—' : stores.find((s) => s.id === id)?.name ?? `#${id}`);
  const filter = byId('account-filter');
  for (const o of operators) byId('account-operator').append(h('option', { value: o.id }, o.name));
  for (const s of stores) byId('account-store').append(h('option', { value: s.id }, s.name));

  const rolesOf = (operatorId) => roles.filter((r) => r.operator_id === Number(operatorId)).map((r) => [r.id, r.name]);
  const storesOf = (operatorId) => [['', t('accounts.no_store')], ...stores.filter((s) => s.operator_id === Number(operatorId)).map((s) => [s.id, s.name])];

  async function act(account, path, method, body, done) {
    try {
      const answer = await api(path, { method, body });
      await done(answer);
      await reload();
    } catch (error) {
      if (error?.status !== 401) notify(error.message);
    }
  }

  async function edit(account) {
    const saved = await formDialog({
      id: 'account-edit',
      title: t('accounts.edit_title', { login: account.login }),
      prefix: 'edit-',
      body: [
        field('edit-name', t('accounts.name'), input('name', { value: account.name })),
        field('edit-store_id', t('accounts.store'), select('store_id', storesOf(account.operator_id), account.store_id ?? '')),
        checklist('edit-', 'role_ids', t('accounts.roles'), rolesOf(account.operator_id), account.roles.map((r) => r.id)),
      ],
      submit: t('admin.save'),
      save: (form) => {
        const data = new FormData(form);
        const body = { name: String(data.get('name')).trim(), role_ids: ticked(form, 'role_ids').map(Number) };
        const store = data.get('store_id');
        if (!who.store) body.store_id = store ? Number(store) : null;
        return api(`/accounts/${account.id}`, { method: 'PATCH', body });
      },
    });
    if (saved) {
      notify(t('accounts.saved', { login: saved.login }), 'ok');
      await reload();
    }
  }

  async function disable(account, disabled) {
    if (disabled && !(await confirmed(t('accounts.disable'), t('accounts.disable_text', { login: account.login }), t('accounts.disable')))) return;
    await act(account, `/accounts/${account.id}`, 'PATCH', { disabled }, async () =>
      notify(disabled ? t('accounts.disabled_now', { login: account.login }) : t('accounts.enabled_now', { login: account.login }), 'ok'),
    );
  }

  async function resetPassword(account) {
    if (!(await confirmed(t('accounts.reset_password'), t('accounts.reset_password_text', { login: account.login }), t('accounts.reset_password')))) return;
    await act(account, `/accounts/${account.id}`, 'PATCH', { reset_password: true }, (answer) =>
      showOnce(t('accounts.new_password_title', { login: account.login }), t('accounts.password'), answer.password),
    );
  }

  async function resetTotp(account) {
    if (!(await confirmed(t('accounts.reset_totp'), t('accounts.reset_totp_text', { login: account.login }), t('accounts.reset_totp')))) return;
    await act(account, `/accounts/${account.id}`, 'PATCH', { reset_totp: true }, async () =>
      notify(t('accounts.totp_reset', { login: account.login }), 'ok'),
    );
  }

  async function revoke(account) {
    if (!(await confirmed(t('accounts.revoke'), t('accounts.revoke_text', { login: account.login }), t('accounts.revoke')))) return;
    await act(account, `/accounts/${account.id}/revoke-sessions`, 'POST', undefined, async (answer) =>
      notify(t('accounts.revoked', { login: account.login, n: answer.revoked }), 'ok'),
    );
  }

  const columns = [
    { label: t('accounts.login'), cell: (a) => a.login },
    { label: t('accounts.name'), cell: (a) => a.name || '—' },
    { label: t('accounts.operator'), cell: (a) => operatorName(a.operator_id) },
    { label: t('accounts.store'), cell: (a) => storeName(a.store_id) },
    { label: t('accounts.roles'), cell: (a) => a.roles.map((r) => r.name).join(', ') || '—' },
    { label: t('accounts.totp'), cell: (a) => (a.totp_enabled ? t('admin.yes') : t('admin.no')) },
    { label: t('accounts.state'), cell: stateBadge },
    { label: t('accounts.last_sign_in'), cell: (a) => formatTime(a.last_sign_in_at) },
  ];
  if (writable) {
    columns.push({
      label: t('admin.actions'),
      cell: (a) =>
        a.id === who.account.id
          ? h('span', { class: 'hint' }, t('accounts.yourself'))
          : h(
              'div',
              { class: 'row-actions' },
              rowButton(t('admin.edit'), () => edit(a)),
              a.disabled
                ? rowButton(t('accounts.enable'), () => disable(a, false))
                : rowButton(t('accounts.disable'), () => disable(a, true), 'danger'),
              rowButton(t('accounts.reset_password'), () => resetPassword(a)),
              a.totp_enabled ? rowButton(t('accounts.reset_totp'), () => resetTotp(a)) : null,
              rowButton(t('accounts.revoke'), () => revoke(a)),
            ),
    });
  }
  const reload = pagedTable(byId('account-list'), {
    path: '/accounts',
    query: () => Object.fromEntries(new FormData(filter)),
    columns,
    caption: t('nav.accounts'),
  });
  onFilter('account-filter', reload, 'account-');
  await reload(1);

  const create = byId('account-new');
  create.hidden = !writable;
  create.addEventListener('click', async () => {
    const first = who.store ? who.operator.id : operators[0]?.id;
    const operator = select('operator_id', operators.map((o) => [o.id, o.name]), first);
    const body = [
      field('new-login', t('accounts.login'), input('login', { autocomplete: 'off', required: true })),
      field('new-name', t('accounts.name'), input('name')),
    ];
    if (!who.store) body.push(field('new-operator_id', t('accounts.operator'), operator));
    body.push(
      field('new-store_id', t('accounts.store'), select('store_id', who.store ? [[who.store.id, who.store.name]] : storesOf(first))),
      checklist('new-', 'role_ids', t('accounts.roles'), rolesOf(first)),
    );
    operator.addEventListener('change', () => {
      const form = operator.form;
      form.querySelector('#new-store_id').replaceChildren(...storesOf(operator.value).map(([v, text]) => h('option', { value: v }, text)));
      form.querySelector('#new-role_ids').replaceWith(checklist('new-', 'role_ids', t('accounts.roles'), rolesOf(operator.value)));
    });
    const made = await formDialog({
      id: 'account-create',
      title: t('accounts.new'),
      prefix: 'new-',
      body,
      submit: t('admin.create'),
      save: (form) => {
        const data = new FormData(form);
        const payload = {
          login: String(data.get('login')).trim(),
          name: String(data.get('name')).trim(),
          role_ids: ticked(form, 'role_ids').map(Number),
        };
        if (data.get('operator_id')) payload.operator_id = Number(data.get('operator_id'));
        if (data.get('store_id')) payload.store_id = Number(data.get('store_id'));
        return api('/accounts', { method: 'POST', body: payload });
      },
    });
    if (made) {
      await reload();
      await showOnce(t('accounts.created', { login: made.login }), t('accounts.password'), made.password);
    }
  });
});
