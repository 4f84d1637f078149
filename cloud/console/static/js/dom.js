// Small helpers for building pages without innerHTML: text is always set as text, so nothing
// an API answer holds can become markup.

/** An element: h('td', { class: 'num', dataset: { id } }, 'text', childElement, ...). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** The element with `id` (throws when the page lacks it: a template and script disagree). */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** Replace every child of `element` with `children`. */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return element;
}

/**
 * Show an ApiError on a form: each field's messages under its input (`#<field>-error`,
 * prefixed with the form's `prefix`) and the problem's detail in `#<formId>-error`.
 */
export function showErrors(form, error, prefix = '') {
  for (const p of form.querySelectorAll('.error')) p.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  const fields = error.fields || {};
  let shown = false;
  for (const [field, messages] of Object.entries(fields)) {
    const slot = form.querySelector(`#${CSS.escape(prefix + field)}-error`);
    const input = form.querySelector(`#${CSS.escape(prefix + field)}`);
    if (slot) {
      slot.textContent = messages.join(' ');
      shown = true;
    }
    if (input) input.setAttribute('aria-invalid', 'true');
  }
  const general = form.querySelector(`#${CSS.escape(form.id)}-error`);
  if (general && (!shown || !Object.keys(fields).length)) general.textContent = error.message;
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

/** Clear a form's error messages. */
export function clearErrors(form) {
  for (const p of form.querySelectorAll('.error')) p.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}
