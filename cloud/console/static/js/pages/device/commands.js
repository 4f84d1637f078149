// Commands to the device: the buttons the caller may use, a confirmation before cutting
// power, each issued command followed through queued -> sent -> done/failed/expired with what
// the device observed (by the device's live stream when the API has one, else by asking for
// the command every second), and the device's recent commands.
import { api } from '../../api.js';
import { byId, clearErrors, fill, h, showErrors } from '../../dom.js';
import { formatNumber, formatTime, t } from '../../i18n.js';
import { may, notify } from '../../shell.js';
import { dataTable } from '../../table.js';

const FINAL = new Set(['done', 'failed', 'rejected', 'expired', 'cancelled']);
// the contract's BMS parameter names (protocols/contract/commands.py) and their units
const PARAMETERS = {
  cell_over_voltage_v: 'V',
  cell_over_voltage_release_v: 'V',
  cell_under_voltage_v: 'V',
  cell_under_voltage_release_v: 'V',
  pack_over_voltage_v: 'V',
  pack_over_voltage_release_v: 'V',
  pack_under_voltage_v: 'V',
  pack_under_voltage_release_v: 'V',
  charge_over_current_a: 'A',
  discharge_over_current_a: 'A',
  charge_over_temperature_c: '°C',
  charge_over_temperature_release_c: '°C',
  charge_under_temperature_c: '°C',
  charge_under_temperature_release_c: '°C',
  discharge_over_temperature_c: '°C',
  discharge_over_temperature_release_c: '°C',
  discharge_under_temperature_c: '°C',
  discharge_under_temperature_release_c: '°C',
  design_capacity_ah: 'Ah',
  cycle_capacity_ah: 'Ah',
  remaining_capacity_alarm_percent: '%',
};

/** A BMS parameter's name for people. */
function parameterLabel(name) {
  const labels = {
    cell_over_voltage_v: t('device.param.cell_over_voltage_v'),
    cell_over_voltage_release_v: t('device.param.cell_over_voltage_release_v'),
    cell_under_voltage_v: t('device.param.cell_under_voltage_v'),
    cell_under_voltage_release_v: t('device.param.cell_under_voltage_release_v'),
    pack_over_voltage_v: t('device.param.pack_over_voltage_v'),
    pack_over_voltage_release_v: t('device.param.pack_over_voltage_release_v'),
    pack_under_voltage_v: t('device.param.pack_under_voltage_v'),
    pack_under_voltage_release_v: t('device.param.pack_under_voltage_release_v'),
    charge_over_current_a: t('device.param.charge_over_current_a'),
    discharge_over_current_a: t('device.param.discharge_over_current_a'),
    charge_over_temperature_c: t('device.param.charge_over_temperature_c'),
    charge_over_temperature_release_c: t('device.param.charge_over_temperature_release_c'),
    charge_under_temperature_c: t('device.param.charge_under_temperature_c'),
    charge_under_temperature_release_c: t('device.param.charge_under_temperature_release_c'),
    discharge_over_temperature_c: t('device.param.discharge_over_temperature_c'),
    discharge_over_temperature_release_c: t('device.param.discharge_over_temperature_release_c'),
    discharge_under_temperature_c: t('device.param.discharge_under_temperature_c'),
    discharge_under_temperature_release_c: t('device.param.discharge_under_temperature_release_c'),
    design_capacity_ah: t('device.param.design_capacity_ah'),
    cycle_capacity_ah: t('device.param.cycle_capacity_ah'),
    remaining_capacity_alarm_percent: t('device.param.remaining_capacity_alarm_percent'),
  };
  return labels[name] || name;
}

export function stateText(state) {
  const words = {
    queued: t('device.state.queued'),
    sent: t('device.state.sent'),
    done: t('device.state.done'),
    failed: t('device.state.failed'),
    rejected: t('device.state.rejected'),
    expired: t('device.state.expired'),
    cancelled: t('device.state.cancelled'),
  };
  return words[state] || state;
}

function stateBadge(state) {
  const kind = { done: 'ok', failed: 'bad', rejected: 'bad', expired: 'warn', cancelled: 'warn', sent: 'info' }[state];
  return h('span', { class: `badge ${kind || ''}`, dataset: { state } }, stateText(state));
}

function what(command) {
  const on = command.args?.on;
  switch (command.type) {
    case 'set_charge':
      return on ? t('device.cmd.charge_on') : t('device.cmd.charge_off');
    case 'set_discharge':
      return on ? t('device.cmd.discharge_on') : t('device.cmd.discharge_off');
    case 'set_cutoff_when_not_leased':
      return command.args?.enabled ? t('device.cmd.cutoff_enable') : t('device.cmd.cutoff_disable');
    case 'read_bms_parameters':
      return t('device.cmd.read_params');
    case 'write_bms_parameters':
      return t('device.cmd.write_params');
    case 'locate':
      return t('device.cmd.locate');
    default:
      return command.type;
  }
}

function observedValue(key, value) {
  if (typeof value === 'boolean') {
    if (key.endsWith('_mos')) return value ? t('device.on') : t('device.off');
    return value ? t('device.yes') : t('device.no');
  }
  if (typeof value === 'number') return formatNumber(value, Number.isInteger(value) ? 0 : 3);
  if (Array.isArray(value)) return value.length ? value.join(', ') : '—';
  return value === null || value === undefined ? '—' : String(value);
}

function observedLabel(key) {
  const labels = {
    charge_mos: t('device.charge_mos'),
    discharge_mos: t('device.discharge_mos'),
    protection: t('device.protection'),
  };
  return labels[key] || parameterLabel(key);
}

function progressText(progress) {
  if (!progress) return null;
  const detail = progress.detail || {};
  if (progress.event === 'cutoff_waiting') {
    return t('device.waiting_standstill', {
      speed: formatNumber(detail.speed_kmh, 1, 'km/h'),
      current: formatNumber(detail.current_a, 1, 'A'),
      waited: formatNumber(detail.waited_s, 0, 's'),
    });
  }
  return progress.event;
}

/**
 * One command's life as a person reads it: the steps, any wait, the result, what it saw;
 * `cancel` (or null) gives an open command its cancel button.
 */
function life(command, cancel = null) {
  const final = FINAL.has(command.state) ? command.state : null;
  const reached = { queued: true, sent: command.state !== 'queued' || Boolean(command.sent_at), final: Boolean(final) };
  const steps = [
    ['queued', t('device.state.queued'), reached.queued, command.created_at],
    ['sent', t('device.state.sent'), reached.sent, command.sent_at],
    [final || 'end', final ? stateText(final) : t('device.state.result'), reached.final, command.acked_at || command.cancelled_at],
  ];
  const observed = Object.entries(command.observed || {});
  return h(
    'article',
    { class: 'command-life', dataset: { cmd: command.cmd_id, state: command.state } },
    h('h4', {}, what(command), ' ', stateBadge(command.state)),
    h(
      'ol',
      { class: 'steps' },
      steps.map(([key, label, done, at]) =>
        h('li', { class: done ? `reached ${key}` : key, 'aria-current': command.state === key ? 'step' : null },
          label, at ? h('small', {}, formatTime(at)) : null),
      ),
    ),
    !final && command.progress ? h('p', { class: 'progress' }, progressText(command.progress)) : null,
    !final && cancel
      ? h('button', { type: 'button', class: 'cancel', onclick: () => cancel(command) }, t('device.cancel_command'))
      : null,
    command.may_still_execute ? h('p', { class: 'hint' }, t('device.may_still_execute')) : null,
    command.result_reason ? h('p', { class: final === 'done' ? 'hint' : 'error' }, command.result_reason) : null,
    observed.length
      ? h('dl', { class: 'facts observed' }, observed.flatMap(([k, v]) => [h('dt', {}, observedLabel(k)), h('dd', { dataset: { key: k } }, observedValue(k, v))]))
      : null,
  );
}

/** The commands section. Returns { changed(command) } for the live stream to call. */
export function setUpCommands(deviceId, who, { live }) {
  const section = byId('commands');
  const following = byId('following');
  const followed = new Map(); // cmd_id -> its panel
  const canRead = may(who, 'command.read');
  for (const element of section.querySelectorAll('[data-needs]')) element.hidden = !may(who, element.dataset.needs);
  const anyButton = [...section.querySelectorAll('[data-needs]')].some((e) => !e.hidden);
  section.hidden = !(canRead || anyButton);
  document.querySelector('.jump [data-needs="command.read"]').hidden = section.hidden;
  if (section.hidden) return { changed() {} };

  async function loadList() {
    if (!canRead) return;
    const rows = await api(`/devices/${encodeURIComponent(deviceId)}/commands`, { query: { page_size: 20 } });
    fill(
      byId('command-table'),
      dataTable({
        caption: t('device.recent_commands'),
        columns: [
          { label: t('device.col.issued'), cell: (c) => formatTime(c.created_at) },
          { label: t('device.col.command'), cell: (c) => what(c) },
          { label: t('device.col.state'), cell: (c) => stateBadge(c.state) },
          { label: t('device.col.by'), cell: (c) => c.issued_by },
          { label: t('device.col.result'), cell: (c) => c.result_reason || '' },
        ],
        rows,
      }),
    );
  }

  async function cancel(command) {
    try {
      show(await api(`/commands/${encodeURIComponent(command.cmd_id)}/cancel`, { method: 'POST' }));
      await loadList();
    } catch (error) {
      notify(error.message);
    }
  }

  function show(command) {
    const old = followed.get(command.cmd_id);
    // answers may cross (the stream and a read): an ended command never goes back
    if (old && FINAL.has(old.dataset.state) && !FINAL.has(command.state)) return;
    const panel = life(command, may(who, 'command.cancel') ? cancel : null);
    if (old) old.replaceWith(panel);
    else following.prepend(panel);
    followed.set(command.cmd_id, panel);
  }

  async function poll(command) {
    if (!canRead) return;
    if (live()) {
      // the stream carries the changes from now on; one read catches those it carried
      // before this page knew the command's id
      show(await api(`/commands/${encodeURIComponent(command.cmd_id)}`));
      return;
    }
    let current = command;
    while (!FINAL.has(current.state) && !live()) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      current = await api(`/commands/${encodeURIComponent(current.cmd_id)}`);
      show(current);
    }
    await loadList();
  }

  async function issue(type, args, reason = null) {
    const command = await api(`/devices/${encodeURIComponent(deviceId)}/commands`, {
      method: 'POST',
      body: { type, args, reason: reason || null },
    });
    show(command);
    await loadList();
    poll(command).catch((error) => notify(error.message));
    return command;
  }

  const dialog = byId('confirm-cut');
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'cut') return;
    const emergency = byId('cut-emergency').checked;
    issue('set_discharge', { on: false, emergency }, byId('cut-reason').value.trim()).catch((error) => notify(error.message));
  });

  const actions = {
    charge_on: () => issue('set_charge', { on: true }),
    charge_off: () => issue('set_charge', { on: false }),
    discharge_on: () => issue('set_discharge', { on: true }),
    discharge_off: () => {
      byId('cut-emergency').checked = false;
      byId('cut-reason').value = '';
      dialog.returnValue = '';
      dialog.showModal();
    },
    locate: () => issue('locate', {}),
    read_params: () => issue('read_bms_parameters', {}),
  };
  for (const button of section.querySelectorAll('[data-command]')) {
    button.addEventListener('click', () => {
      Promise.resolve(actions[button.dataset.command]()).catch((error) => notify(error.message));
    });
  }

  const paramForm = byId('param-write');
  fill(byId('param-name'), Object.entries(PARAMETERS).map(([name, unit]) => h('option', { value: name }, `${parameterLabel(name)} (${unit})`)));
  paramForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(paramForm);
    const name = byId('param-name').value;
    const value = byId('param-value').valueAsNumber;
    if (Number.isNaN(value)) {
      showErrors(paramForm, { fields: { value: [t('device.need_number')] }, message: t('device.need_number') }, 'param-');
      return;
    }
    try {
      await issue('write_bms_parameters', { values: { [name]: value } });
    } catch (error) {
      const fields = {};
      for (const [field, messages] of Object.entries(error.fields || {})) {
        fields[field.startsWith('args') ? 'value' : field] = messages;
      }
      showErrors(paramForm, { fields, message: error.message }, 'param-');
    }
  });

  loadList().catch((error) => notify(error.message));
  return {
    issue,
    changed(command) {
      if (followed.has(command.cmd_id)) show(command);
      loadList().catch(() => {});
    },
  };
}
