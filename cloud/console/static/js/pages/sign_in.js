// Signing in: login and password, then the TOTP code when the account has a second factor.
// The session comes back as an HttpOnly cookie (never readable here).
import { api } from '../api.js';
import { byId, clearErrors, showErrors } from '../dom.js';

const params = new URLSearchParams(location.search);
// only a path of this site, never another origin (an open redirect)
const asked = params.get('next') || '/';
const next = asked.startsWith('/') && !asked.startsWith('//') ? asked : '/';

function onward(stage) {
  location.assign(stage === 'totp_enrol' ? '/account?enrol=1' : next);
}

const passwordStep = byId('password-step');
const codeStep = byId('code-step');
byId('ended').hidden = params.get('ended') !== '1';

passwordStep.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(passwordStep);
  const form = new FormData(passwordStep);
  try {
    const session = await api('/auth/sign-in', {
      method: 'POST',
      body: { login: form.get('login'), password: form.get('password'), cookie: true },
      quiet401: true,
    });
    if (session.stage === 'totp') {
      passwordStep.hidden = true;
      codeStep.hidden = false;
      byId('code').focus();
      return;
    }
    onward(session.stage);
  } catch (error) {
    showErrors(passwordStep, error);
  }
});

codeStep.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(codeStep);
  try {
    const session = await api('/auth/totp/verify', {
      method: 'POST',
      body: { code: new FormData(codeStep).get('code') },
      quiet401: true,
    });
    onward(session.stage);
  } catch (error) {
    showErrors(codeStep, error);
  }
});

byId('login').focus();
