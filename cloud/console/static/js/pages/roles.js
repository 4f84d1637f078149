// /admin/roles: the roles of the caller's operator and those below; making and editing one
// from the permission catalogue (only what the caller holds itself may be granted), deleting.
import { permissionWords } from '../permission_words.js';
import { api, apiAll } from '../api.js';
import { checklist, confirmed, field, formDialog, input, pagedTable, rowButton, select, ticked } from '../admin.js';
import { byId, h } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { may, notify, run, start } from '../shell.js';

run(async () => {
  const who = await start({ needs: 'role.read' });
  const writable = may(who, 'role.write');
  const operators = may(who, 'operator.read') && !who.store ? await apiAll('/operators') : [who.operator];
  const operatorName = (id) => operators.find((o) => o.id === id)?.name ?? `#${id}`;
  const catalogue = await api('/permissions');
  // what this caller may grant: the permissions it holds itself
  const grantable = catalogue.permissions
    .filter((p) => who.permissions.includes(p.name))
    .map((p) => [p.name, p.name, `— ${permissionWords(p.name)}`]);

  function roleForm(role) {
    const body = [field('role-name', t('roles.name'), input('name', { value: role?.name ?? '', required: true }))];
    if (!role && operators.length > 1) {
      body.push(field('role-operator_id', t('roles.operator'), select('operator_id', operators.map((o) => [o.id, o.name]))));
    }
    body.push(
      field('role-description', t('roles.description'), input('description', { value: role?.description ?? '' })),
      checklist('role-', 'permissions', t('roles.permissions'), grantable, role?.permissions ?? []),
    );
    return body;
  }

  async function open(role) {
    const saved = await formDialog({
      id: 'role-form',
      title: role ? t('roles.edit_title', { name: role.name }) : t('roles.new'),
      prefix: 'role-',
      body: roleForm(role),
      wide: true,
      submit: role ? t('admin.save') : t('admin.create'),
      save: (form) => {
        const data = new FormData(form);
        const body = {
          name: String(data.get('name')).trim(),
          description: String(data.get('description')).trim(),
          permissions: ticked(form, 'permissions'),
        };
        if (data.get('operator_id')) body.operator_id = Number(data.get('operator_id'));
        return api(role ? `/roles/${role.id}` : '/roles', { method: role ? 'PATCH' : 'POST', body });
      },
    });
    if (saved) {
      notify(t('roles.saved', { name: saved.name }), 'ok');
      await reload();
    }
  }

  async function remove(role) {
    if (!(await confirmed(t('roles.delete_title'), t('roles.delete_text', { name: role.name }), t('admin.delete')))) return;
    try {
      await api(`/roles/${role.id}`, { method: 'DELETE' });
      notify(t('roles.deleted', { name: role.name }), 'ok');
      await reload();
    } catch (error) {
      if (error?.status !== 401) notify(error.message);
    }
  }

  const columns = [
    { label: t('roles.name'), cell: (r) => h('span', {}, r.name, r.builtin ? h('span', { class: 'badge info' }, t('roles.builtin')) : null) },
    { label: t('roles.operator'), cell: (r) => operatorName(r.operator_id) },
    { label: t('roles.description'), cell: (r) => r.description || '—' },
    { label: t('roles.permissions'), cell: (r) => h('span', { class: 'perm-list' }, r.permissions.join(', ')) },
    { label: t('roles.accounts'), num: true, cell: (r) => formatNumber(r.accounts) },
  ];
  if (writable) {
    columns.push({
      label: t('admin.actions'),
      cell: (r) =>
        r.builtin
          ? h('span', { class: 'hint' }, t('roles.read_only'))
          : h('div', { class: 'row-actions' }, rowButton(t('admin.edit'), () => open(r)), rowButton(t('admin.delete'), () => remove(r), 'danger')),
    });
  }
  const reload = pagedTable(byId('role-list'), { path: '/roles', columns, caption: t('nav.roles') });
  await reload(1);
  const create = byId('role-new');
  create.hidden = !writable;
  create.addEventListener('click', () => open(null));
});
