// What the administration pages share: form fields with their labels and error slots, modal
// dialogs (native <dialog>: Escape closes, focus stays inside), a confirmation, and a paged
// table that reloads itself. Field ids are `<prefix><api field>`, so showErrors() puts each of
// the API's field errors under its input.
import { apiPage } from './api.js';
import { byId, clearErrors, fill, h, showErrors } from './dom.js';
import { t } from './i18n.js';
import { dataTable, pager } from './table.js';

/** A labelled input block: label, the control, and its error slot `#<id>-error`. */
export function field(id, label, control, hint = null) {
  control.id = id;
  control.setAttribute('aria-describedby', `${id}-error`);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('p', { class: 'error', id: `${id}-error` }),
  );
}

/** An <input> named `name` with `attributes` (value, type, required...). */
export function input(name, attributes = {}) {
  return h('input', { name, type: 'text', ...attributes });
}

/** A <select> named `name` of `options` ([value, text]), `value` selected. */
export function select(name, options, value = null, attributes = {}) {
  return h(
    'select',
    { name, ...attributes },
    options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value) }, text)),
  );
}

/** A fieldset of checkboxes named `name` (`items`: [value, text, hint?]), `checked` ticked. */
export function checklist(idPrefix, name, legend, items, checked = [], disabled = false) {
  const ticked = new Set(checked.map(String));
  return h(
    'fieldset',
    { class: 'checklist', id: `${idPrefix}${name}`, disabled },
    h('legend', {}, legend),
    items.map(([value, text, hint], index) =>
      h(
        'div',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          id: `${idPrefix}${name}-${index}`,
          name,
          value,
          checked: ticked.has(String(value)),
        }),
        h('label', { for: `${idPrefix}${name}-${index}` }, text, hint ? h('span', { class: 'hint' }, ` ${hint}`) : null),
      ),
    ),
    h('p', { class: 'error', id: `${idPrefix}${name}-error` }),
  );
}

/** The values of the ticked boxes named `name` in `form`. */
export function ticked(form, name) {
  return [...form.querySelectorAll(`input[type=checkbox][name="${name}"]:checked`)].map((box) => box.value);
}

/**
 * A modal form: `title`, `body` (nodes), a submit button `submit`. `save(form)` sends it; an
 * ApiError is shown on the form (fields with `prefix`) and the dialog stays open; otherwise
 * it closes and resolves to what `save` returned (null when cancelled).
 */
export function formDialog({ id, title, body, submit, save, prefix = '', danger = false, wide = false }) {
  return new Promise((resolve) => {
    const form = h(
      'form',
      { id, method: 'dialog', novalidate: true },
      h('h2', { id: `${id}-title` }, title),
      body,
      h('p', { class: 'error', id: `${id}-error`, role: 'alert' }),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', value: 'cancel', onclick: () => dialog.close() }, t('admin.cancel')),
        h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, submit),
      ),
    );
    const dialog = h('dialog', { class: wide ? 'admin-dialog wide' : 'admin-dialog', 'aria-labelledby': `${id}-title` }, form);
    let result = null;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        result = await save(form);
        dialog.close();
      } catch (error) {
        if (error?.status === 401) return;
        showErrors(form, error, prefix);
      } finally {
        button.disabled = false;
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Ask before something that cannot be undone; resolves to true when confirmed. */
export async function confirmed(title, text, yes, danger = true) {
  const answer = await formDialog({
    id: 'confirm',
    title,
    body: h('p', {}, text),
    submit: yes,
    danger,
    save: async () => true,
  });
  return answer === true;
}

/** Show a text once (a generated password) with a note that it will not be shown again. */
export function showOnce(title, label, secret) {
  return formDialog({
    id: 'once',
    title,
    body: [h('p', {}, t('admin.shown_once')), h('p', {}, label, ' ', h('code', { id: 'once-secret' }, secret))],
    submit: t('admin.done'),
    save: async () => true,
  });
}

/**
 * A paged list in `target`: `query()` gives the filters, `columns` and `caption` as for
 * dataTable. Returns `reload(page = 1)`.
 */
export function pagedTable(target, { path, query = () => ({}), columns, caption, pageSize = 50 }) {
  let current = 1;
  let newest = 0; // only the newest reload draws: a late older answer never replaces it
  async function reload(page = current) {
    current = page;
    const mine = ++newest;
    const answer = await apiPage(path, { ...query(), page, page_size: pageSize });
    if (mine !== newest) return answer;
    if (answer.pages && page > answer.pages && page > 1) return reload(answer.pages);
    fill(target, dataTable({ columns, rows: answer.items, caption }), pager(answer, (p) => reload(p)));
    return answer;
  }
  return reload;
}

/** A small action button for a table row. */
export function rowButton(text, onclick, kind = '') {
  return h('button', { type: 'button', class: `small ${kind}`.trim(), onclick }, text);
}

/** A submitted filter form reloads the list from its first page (a refused filter is
 * said on the form). */
export function onFilter(formId, reload, prefix = '') {
  const form = byId(formId);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await reload(1);
    } catch (error) {
      if (error?.status !== 401) showErrors(form, error, prefix);
    }
  });
  return form;
}

/** A yes/no as a badge. */
export function yesNo(value) {
  return h('span', { class: value ? 'badge ok' : 'badge' }, value ? t('admin.yes') : t('admin.no'));
}

export { showErrors };
