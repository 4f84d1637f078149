// The caller's own account: who it is, its second factor (enrol with a QR code, confirm) and
// its password.
import { qrcode } from '/console/vendor/qrcode-generator/qrcode.mjs';
import { api } from '../api.js';
import { permissionWords } from '../permission_words.js';
import { byId, clearErrors, fill, h, showErrors } from '../dom.js';
import { t } from '../i18n.js';
import { notify, run, start } from '../shell.js';

function facts(who) {
  const rows = [
    [t('account.login'), who.account.login],
    [t('account.name'), who.account.name],
    [t('account.operator'), who.operator?.name],
    [t('account.store'), who.store ? who.store.name : t('account.no_store')],
    [t('account.permissions'), who.permissions.map(permissionWords).join('; ')],
  ];
  return rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value ?? '—')]);
}

function factorState(who) {
  if (who.account.totp_enabled) return t('account.factor_on');
  return t('account.factor_off');
}

function drawQr(target, text) {
  const code = qrcode(0, 'M');
  code.addData(text);
  code.make();
  const cells = code.getModuleCount();
  const scale = 4;
  const canvas = h('canvas', { width: (cells + 8) * scale, height: (cells + 8) * scale });
  const pen = canvas.getContext('2d');
  pen.fillStyle = '#fff';
  pen.fillRect(0, 0, canvas.width, canvas.height);
  pen.fillStyle = '#000';
  for (let row = 0; row < cells; row += 1) {
    for (let col = 0; col < cells; col += 1) {
      if (code.isDark(row, col)) pen.fillRect((col + 4) * scale, (row + 4) * scale, scale, scale);
    }
  }
  fill(target, canvas);
}

run(async () => {
  let who = await start();
  byId('must-enrol').hidden = who.stage !== 'totp_enrol';
  fill(byId('me'), facts(who));
  byId('factor-state').textContent = factorState(who);

  const enrol = byId('enrol');
  const confirm = byId('confirm');
  enrol.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(enrol);
    try {
      const made = await api('/auth/totp/enrol', {
        method: 'POST',
        body: { password: new FormData(enrol).get('password') },
      });
      byId('enrol-secret').textContent = made.secret;
      drawQr(byId('enrol-qr'), made.otpauth_uri);
      enrol.hidden = true;
      confirm.hidden = false;
      byId('confirm-code').focus();
    } catch (error) {
      showErrors(enrol, error, 'enrol-');
    }
  });
  confirm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(confirm);
    try {
      await api('/auth/totp/confirm', {
        method: 'POST',
        body: { code: new FormData(confirm).get('code') },
      });
      who = await api('/auth/me');
      confirm.hidden = true;
      enrol.hidden = false;
      byId('must-enrol').hidden = true;
      byId('factor-state').textContent = factorState(who);
      notify(t('account.factor_confirmed'), 'ok');
    } catch (error) {
      showErrors(confirm, error, 'confirm-');
    }
  });

  const change = byId('password-change');
  change.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(change);
    const form = new FormData(change);
    try {
      const answer = await api('/auth/password', {
        method: 'PUT',
        body: { current: form.get('current'), new: form.get('new') },
      });
      change.reset();
      notify(t('account.password_changed', { n: answer.revoked }), 'ok');
    } catch (error) {
      showErrors(change, error);
    }
  });
});
