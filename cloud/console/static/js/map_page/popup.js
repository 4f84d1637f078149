// What the live map's popup says about one device, with the link to its page.
import { h } from '../dom.js';
import { formatAgo, formatNumber, formatTime, t } from '../i18n.js';

function leaseText(lease) {
  const texts = { leased: t('map.lease.leased'), expired: t('map.lease.expired'), none: t('map.lease.none') };
  return texts[lease] || '—';
}

function alarmText(severity) {
  const texts = { critical: t('map.alarm.critical'), warning: t('map.alarm.warning'), info: t('map.alarm.info') };
  return texts[severity] || t('map.alarm.none');
}

/** The popup's content for `device`; `storeName(id)` names its store. */
export function popupContent(device, storeName) {
  const facts = [
    [t('map.popup.soc'), formatNumber(device.soc_percent, 0, '%')],
    [t('map.popup.voltage'), formatNumber(device.pack_voltage_v, 1, 'V')],
    [t('map.popup.speed'), formatNumber(device.speed_kmh, 0, 'km/h')],
    [t('map.popup.last_seen'), `${formatTime(device.last_seen_at)} (${formatAgo(device.last_seen_at)})`],
    [t('map.popup.store'), device.store_id === null ? '—' : storeName(device.store_id)],
    [t('map.popup.lease'), leaseText(device.lease)],
    [t('map.popup.alarm'), alarmText(device.alarm_severity)],
  ];
  if (device.discharge_mos === false) facts.push([t('map.popup.discharge'), t('map.cut')]);
  return h(
    'div',
    { class: 'device-popup', dataset: { id: device.id } },
    h(
      'p',
      { class: 'popup-title' },
      h('strong', {}, device.id),
      ' ',
      h('span', { class: `badge ${device.online ? 'ok' : ''}` }, device.online ? t('map.online') : t('map.offline')),
    ),
    h('dl', { class: 'facts' }, facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
    h('a', { href: `/devices/${encodeURIComponent(device.id)}` }, t('map.popup.open')),
  );
}
