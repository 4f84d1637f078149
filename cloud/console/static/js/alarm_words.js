// The words of alarm types, severities and states, shared by the alarm list and an alarm's
// page. Every key is a literal t() call so the catalog test finds it.
import { h } from './dom.js';
import { t } from './i18n.js';

const TYPES = {
  cell_over_voltage: () => t('alarms.type.cell_over_voltage'),
  cell_under_voltage: () => t('alarms.type.cell_under_voltage'),
  pack_over_voltage: () => t('alarms.type.pack_over_voltage'),
  pack_under_voltage: () => t('alarms.type.pack_under_voltage'),
  charge_over_temperature: () => t('alarms.type.charge_over_temperature'),
  charge_under_temperature: () => t('alarms.type.charge_under_temperature'),
  discharge_over_temperature: () => t('alarms.type.discharge_over_temperature'),
  discharge_under_temperature: () => t('alarms.type.discharge_under_temperature'),
  charge_over_current: () => t('alarms.type.charge_over_current'),
  discharge_over_current: () => t('alarms.type.discharge_over_current'),
  low_soc: () => t('alarms.type.low_soc'),
  cell_imbalance: () => t('alarms.type.cell_imbalance'),
  bms_protection: () => t('alarms.type.bms_protection'),
  vibration: () => t('alarms.type.vibration'),
  tamper: () => t('alarms.type.tamper'),
  offline: () => t('alarms.type.offline'),
  outside_geofence: () => t('alarms.type.outside_geofence'),
};

/** Every alarm type the API knows, in the catalogue's order. */
export const ALARM_TYPES = Object.keys(TYPES);

/** An alarm type in words (its code when the console does not know it yet). */
export function typeName(type) {
  return TYPES[type] ? TYPES[type]() : type;
}

const SEVERITIES = {
  critical: () => t('alarms.severity.critical'),
  warning: () => t('alarms.severity.warning'),
  info: () => t('alarms.severity.info'),
};
export const SEVERITY_ORDER = ['critical', 'warning', 'info'];
const SEVERITY_LOOK = { critical: 'bad', warning: 'warn', info: 'info' };

/** A severity in words. */
export function severityName(severity) {
  return SEVERITIES[severity] ? SEVERITIES[severity]() : severity;
}

/** A severity as a coloured badge. */
export function severityBadge(severity) {
  return h('span', { class: `badge ${SEVERITY_LOOK[severity] || ''}` }, severityName(severity));
}

const STATES = {
  open: () => t('alarms.state.open'),
  resolved: () => t('alarms.state.resolved'),
};
export const STATE_ORDER = ['open', 'resolved'];

/** An alarm's state in words. */
export function stateName(state) {
  return STATES[state] ? STATES[state]() : state;
}

/** The state as a badge, saying also whether the condition holds now. */
export function stateBadge(alarm) {
  if (alarm.state === 'resolved') return h('span', { class: 'badge ok' }, stateName('resolved'));
  const holding = alarm.active ? t('alarms.active.yes') : t('alarms.active.no');
  return h('span', { class: `badge ${alarm.active ? 'bad' : 'warn'}` }, `${stateName('open')} · ${holding}`);
}

/** The alarm's subject (a protection or a fence) after its type, when it has one. */
export function alarmTitle(alarm) {
  return alarm.subject ? `${typeName(alarm.type)} (${alarm.subject})` : typeName(alarm.type);
}
