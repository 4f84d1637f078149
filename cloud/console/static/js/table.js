// Lists as real tables: a caption, column headers, one row per item; a row's first link (or
// its checkbox) is reachable with Tab, and Enter on a focused row opens its link.
import { h } from './dom.js';
import { t } from './i18n.js';

/**
 * A <table> of `rows`. `columns`: [{ label, cell: row => text or Node, num: bool }].
 * `caption`: what the table lists (read by screen readers). `href`: row => the row's page.
 */
export function dataTable({ columns, rows, caption, href = null, empty = t('table.empty') }) {
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)));
  const body = rows.length
    ? rows.map((row) => {
        const tr = h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(row))));
        if (href) {
          tr.dataset.href = href(row);
          tr.addEventListener('keydown', (event) => {
            if (event.key === 'Enter' && event.target === tr) location.assign(tr.dataset.href);
          });
          tr.tabIndex = 0;
        }
        return tr;
      })
    : [h('tr', {}, h('td', { colspan: columns.length, class: 'hint' }, empty))];
  return h(
    'div',
    // a table wider than a phone scrolls inside its box, which keyboard users reach with Tab
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', {}, h('caption', { class: 'visually-hidden' }, caption), h('thead', {}, head), h('tbody', {}, body)),
  );
}

/** Previous/next buttons and "page 2 of 7 (123)"; `go(page)` loads a page. */
export function pager({ page, pages, total }, go) {
  return h(
    'nav',
    { class: 'pager', 'aria-label': t('table.pages') },
    h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, t('table.previous')),
    h('span', {}, t('table.page_of', { page, pages: Math.max(pages, 1), total })),
    h('button', { type: 'button', disabled: page >= pages, onclick: () => go(page + 1) }, t('table.next')),
  );
}
