// What each permission lets an account do, in the page's language (the API's catalogue says it
// in English only). tests/console/test_catalogs.py checks every permission has its words.
import { t } from './i18n.js';

const WORDS = {
  'operator.read': () => t('permission.operator_read'),
  'operator.write': () => t('permission.operator_write'),
  'store.read': () => t('permission.store_read'),
  'store.write': () => t('permission.store_write'),
  'device.read': () => t('permission.device_read'),
  'device.write': () => t('permission.device_write'),
  'device.transfer': () => t('permission.device_transfer'),
  'device.credentials': () => t('permission.device_credentials'),
  'device.command.basic': () => t('permission.device_command_basic'),
  'device.command.charge': () => t('permission.device_command_charge'),
  'device.command.discharge': () => t('permission.device_command_discharge'),
  'device.command.cutoff': () => t('permission.device_command_cutoff'),
  'device.bms.write': () => t('permission.device_bms_write'),
  'command.read': () => t('permission.command_read'),
  'command.cancel': () => t('permission.command_cancel'),
  'lease.write': () => t('permission.lease_write'),
  'alarm.read': () => t('permission.alarm_read'),
  'alarm.resolve': () => t('permission.alarm_resolve'),
  'geofence.read': () => t('permission.geofence_read'),
  'geofence.write': () => t('permission.geofence_write'),
  'webhook.read': () => t('permission.webhook_read'),
  'webhook.write': () => t('permission.webhook_write'),
  'account.read': () => t('permission.account_read'),
  'account.write': () => t('permission.account_write'),
  'role.read': () => t('permission.role_read'),
  'role.write': () => t('permission.role_write'),
  'audit.read': () => t('permission.audit_read'),
  'billing.write': () => t('permission.billing_write'),
  'payment.offline': () => t('permission.payment_offline'),
  'settlement.manage': () => t('permission.settlement_manage'),
  'platform.alarm_profiles': () => t('permission.platform_alarm_profiles'),
  'platform.unknown_devices': () => t('permission.platform_unknown_devices'),
  'platform.dead_letters': () => t('permission.platform_dead_letters'),
  'platform.broker': () => t('permission.platform_broker'),
};

/** The words of permission `name` (the name itself for one this page does not know). */
export function permissionWords(name) {
  return WORDS[name] ? WORDS[name]() : name;
}
