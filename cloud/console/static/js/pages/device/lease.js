// The lease term the device enforces on its own (also offline), the form to set or end it
// for those who may, and the cut-off-when-not-leased switch (a command that overrides the
// term's flag on the gateway until a newer term arrives).
import { api } from '../../api.js';
import { byId, clearErrors, fill, h, showErrors } from '../../dom.js';
import { formatNumber, formatTime, t } from '../../i18n.js';
import { may, notify } from '../../shell.js';

function localInput(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function yesNo(value) {
  return value ? t('device.yes') : t('device.no');
}

/** The lease section; `commands` issues the cut-off switch's command. */
export function setUpLease(deviceId, who, commands) {
  const form = byId('lease-form');
  const facts = byId('lease-facts');
  const url = `/devices/${encodeURIComponent(deviceId)}/lease`;
  form.hidden = !may(who, 'lease.write');
  const mayCutoff = may(who, 'device.command.cutoff');
  byId('lease-cutoff_when_not_leased').disabled = !mayCutoff;
  byId('cutoff-switch').hidden = !mayCutoff || !commands?.issue;

  function show(term) {
    if (!term) {
      fill(facts, h('dt', {}, t('device.lease')), h('dd', {}, t('device.no_lease')));
      return;
    }
    const rows = [
      [t('device.lease_state'), term.leased ? h('span', { class: 'badge ok' }, t('device.leased')) : h('span', { class: 'badge warn' }, t('device.not_leased'))],
      [t('device.lease_until'), term.leased_until ? formatTime(term.leased_until) : t('device.open_ended')],
      [t('device.lease_grace'), formatNumber(term.grace_s, 0, 's')],
      [t('device.lease_cutoff'), yesNo(term.cutoff_when_not_leased)],
      [t('device.lease_version'), t('device.lease_published', { version: term.version, published: term.published_version })],
      [t('device.lease_updated'), `${formatTime(term.updated_at)} · ${term.updated_by || '—'}`],
    ];
    fill(facts, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    byId('lease-leased').checked = term.leased;
    byId('lease-leased_until').value = localInput(term.leased_until);
    byId('lease-grace_s').value = String(term.grace_s);
    byId('lease-cutoff_when_not_leased').checked = term.cutoff_when_not_leased;
    byId('cutoff-now').checked = term.cutoff_when_not_leased;
  }

  async function load() {
    try {
      show(await api(url));
    } catch (error) {
      if (error.status !== 404) throw error;
      show(null);
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const until = byId('lease-leased_until').value;
    const grace = byId('lease-grace_s').value;
    const body = {
      leased: byId('lease-leased').checked,
      leased_until: until ? new Date(until).toISOString() : null,
      grace_s: grace === '' ? 0 : Number(grace),
      cutoff_when_not_leased: byId('lease-cutoff_when_not_leased').checked,
    };
    try {
      show(await api(url, { method: 'PUT', body }));
      notify(t('device.lease_saved'), 'ok');
    } catch (error) {
      showErrors(form, error, 'lease-');
    }
  });
  byId('lease-end').addEventListener('click', async () => {
    clearErrors(form);
    try {
      show(await api(url, { method: 'DELETE' }));
      notify(t('device.lease_ended'), 'ok');
    } catch (error) {
      showErrors(form, error, 'lease-');
    }
  });
  byId('cutoff-now').addEventListener('change', (event) => {
    commands.issue('set_cutoff_when_not_leased', { enabled: event.target.checked }).catch((error) => {
      event.target.checked = !event.target.checked;
      notify(error.message);
    });
  });
  return load();
}
