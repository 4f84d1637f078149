// The side list of the live map: one row per device passing the filters, virtualised (only
// the rows in view exist in the page), so ten thousand devices scroll and filter at once.
// Tab reaches the rows; the arrow keys, Page Up/Down, Home and End move between them; Enter
// selects one.
import { h } from '../dom.js';
import { language, t } from '../i18n.js';
import { band } from './devices.js';

const ROW_PX = 44; // fixed, so a row's place is its index times this (console.css agrees)
const SPARE = 6; // rows drawn beyond each edge of the view

const STEPS = { ArrowDown: 1, ArrowUp: -1 };
const percent = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });

export class DeviceList {
  /** `scroller` scrolls, `list` (a <ul>) holds the rows; `onSelect(id)` on Enter or click. */
  constructor(scroller, list, fleet, onSelect) {
    this.scroller = scroller;
    this.list = list;
    this.fleet = fleet;
    this.onSelect = onSelect;
    this.ids = [];
    this.selected = null;
    this.rows = new Map(); // id -> { item, look }: a row whose look is unchanged is kept
    scroller.addEventListener('scroll', () => this.render(), { passive: true });
    list.addEventListener('keydown', (event) => this.key(event));
  }

  /** Show the devices `ids`, in this order. */
  show(ids) {
    this.ids = ids;
    this.list.style.height = `${ids.length * ROW_PX}px`;
    this.render();
  }

  /** Mark the row of `id` as chosen and scroll to it. */
  choose(id) {
    this.selected = id;
    const index = this.ids.indexOf(id);
    if (index >= 0) this.reveal(index);
    this.render();
  }

  reveal(index) {
    const top = index * ROW_PX;
    const view = this.scroller.clientHeight;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_PX > this.scroller.scrollTop + view) this.scroller.scrollTop = top + ROW_PX - view;
  }

  /** Draw the rows in view (call after the devices' data changed). */
  render() {
    const view = Math.max(this.scroller.clientHeight, ROW_PX * 8);
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_PX) - SPARE);
    const last = Math.min(this.ids.length, Math.ceil((this.scroller.scrollTop + view) / ROW_PX) + SPARE);
    const focused = document.activeElement?.closest?.('#map-rows [data-id]')?.dataset.id;
    const rows = [];
    for (let index = first; index < last; index += 1) rows.push(this.row(index));
    const unchanged =
      rows.length === this.list.children.length && rows.every((row, i) => row === this.list.children[i]);
    if (unchanged) return; // nothing in view changed: no DOM write at all
    for (const id of this.rows.keys()) if (!rows.some((row) => row.dataset.id === id)) this.rows.delete(id);
    this.list.replaceChildren(...rows);
    if (focused) this.list.querySelector(`[data-id="${CSS.escape(focused)}"] button`)?.focus({ preventScroll: true });
  }

  row(index) {
    const device = this.fleet.byId.get(this.ids[index]);
    const state = device.online ? t('map.online') : t('map.offline');
    const soc = device.soc_percent === null ? '—' : `${percent.format(device.soc_percent)} %`;
    const alarm = device.alarm_severity ? ` · ${t('map.alarm.open')}` : '';
    const meta = `${soc} · ${state}${alarm}`;
    const current = device.id === this.selected;
    const look = `${band(device)}|${meta}|${current}|${index}|${this.ids.length}`;
    const kept = this.rows.get(device.id);
    if (kept?.look === look) return kept.item;
    const item = h(
      'li',
      { dataset: { id: device.id }, 'aria-setsize': this.ids.length, 'aria-posinset': index + 1 },
      h(
        'button',
        {
          type: 'button',
          class: 'device-row',
          'aria-current': current ? 'true' : null,
          onclick: () => this.onSelect(device.id),
        },
        h('span', { class: `dot ${band(device)}`, 'aria-hidden': 'true' }),
        h('span', { class: 'row-id' }, device.id),
        h('span', { class: 'row-meta' }, meta),
      ),
    );
    item.style.top = `${index * ROW_PX}px`;
    this.rows.set(device.id, { item, look });
    return item;
  }

  key(event) {
    const current = event.target.closest('[data-id]');
    if (!current) return;
    let index = this.ids.indexOf(current.dataset.id);
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_PX) - 1);
    if (event.key in STEPS) index += STEPS[event.key];
    else if (event.key === 'PageDown') index += page;
    else if (event.key === 'PageUp') index -= page;
    else if (event.key === 'Home') index = 0;
    else if (event.key === 'End') index = this.ids.length - 1;
    else return;
    event.preventDefault();
    index = Math.max(0, Math.min(this.ids.length - 1, index));
    this.reveal(index);
    this.render();
    this.list.querySelector(`[data-id="${CSS.escape(this.ids[index])}"] button`)?.focus({ preventScroll: true });
  }
}
