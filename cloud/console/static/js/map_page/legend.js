// The live map's legend: a disclosure box (open on a wide screen, folded on a phone, where
// it would hide a quarter of the map), the rows as map.js's legend draws them.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { L } from '../map.js';

const WIDE = '(min-width: 761px)';

/** Add the legend of `rows` ([css class of the swatch, text]) to `map`. */
export function foldingLegend(map, rows) {
  const control = L.control({ position: 'bottomleft' });
  control.onAdd = () => {
    const box = h(
      'details',
      { class: 'map-legend', open: window.matchMedia(WIDE).matches },
      h('summary', {}, t('map.legend.title')),
      rows.map(([kind, text]) => h('div', {}, h('span', { class: `swatch ${kind}` }), text)),
    );
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  control.addTo(map);
  return control;
}
