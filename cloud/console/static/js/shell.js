// What every signed-in page shares: who is asking (/api/auth/me), the menu it may use, the
// language links, signing out, the small-screen menu, and notices.

import { api, signInAgain } from './api.js';
import { t } from './i18n.js';

/** Show a message to the person at the top of the page (kind: error, warn, ok). */
export function notify(message, kind = 'error') {
  const box = document.getElementById('notice');
  if (!box) return;
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = !message;
}

/** Whether the caller has `permission` (null: any signed-in caller). */
export function may(who, permission) {
  return !permission || who.permissions.includes(permission);
}

function wireMenu() {
  const toggle = document.querySelector('.menu-toggle');
  const menu = document.getElementById('menu');
  if (!toggle || !menu) return;
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    menu.classList.toggle('open', open);
  });
}

function keepLanguageLinksOnThisPage() {
  for (const link of document.querySelectorAll('.languages a')) {
    const params = new URLSearchParams(location.search);
    params.set('lang', link.getAttribute('lang'));
    link.href = `${location.pathname}?${params}${location.hash}`;
  }
}

/**
 * Start a signed-in page: resolves to the caller (/api/auth/me) once the menu shows what it
 * may use. A caller without a session is sent to sign in; one owing its second factor to
 * confirm or enrol it; `needs` (a permission) the page itself needs, else a notice.
 */
export async function start({ needs = null } = {}) {
  keepLanguageLinksOnThisPage();
  wireMenu();
  const who = await api('/auth/me');
  if (who.stage === 'totp') {
    signInAgain(false);
    return new Promise(() => {});
  }
  if (who.stage === 'totp_enrol' && document.body.dataset.page !== 'account') {
    location.assign('/account?enrol=1');
    return new Promise(() => {});
  }
  for (const link of document.querySelectorAll('#menu a[data-needs]')) {
    link.hidden = !may(who, link.dataset.needs || null);
  }
  const name = document.getElementById('who');
  if (name) {
    name.textContent = who.account.name || who.account.login;
    name.title = who.account.login;
    name.hidden = false;
  }
  const signOut = document.getElementById('sign-out');
  if (signOut) {
    signOut.hidden = false;
    signOut.addEventListener('click', async () => {
      try {
        await api('/auth/sign-out', { method: 'POST', quiet401: true });
      } finally {
        location.assign('/sign-in');
      }
    });
  }
  if (needs && !may(who, needs)) {
    notify(t('app.not_allowed'), 'warn');
    document.getElementById('main')?.replaceChildren();
    return new Promise(() => {});
  }
  return who;
}

/** Run a page's `main`, showing what went wrong instead of a blank page. */
export function run(main) {
  main().catch((error) => {
    if (error?.status === 401) return; // on its way to the sign-in page
    console.error(error);
    notify(error?.message || String(error));
  });
}
