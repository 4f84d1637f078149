// /admin/audit: the audit log of the caller's subtree, newest first, with filters and pages.
import { pagedTable } from '../admin.js';
import { byId, clearErrors, h, showErrors } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { run, start } from '../shell.js';

// The API wants instants with a timezone; a datetime-local input gives the browser's time.
const instant = (local) => (local ? new Date(local).toISOString() : null);

function statusBadge(status) {
  if (status === null) return '—';
  const kind = status < 300 ? 'ok' : status < 500 ? 'warn' : 'bad';
  return h('span', { class: `badge ${kind}` }, String(status));
}

function detail(entry) {
  if (!entry.detail || !Object.keys(entry.detail).length) return '—';
  return h('code', { class: 'audit-detail' }, JSON.stringify(entry.detail));
}

run(async () => {
  await start({ needs: 'audit.read' });
  const filter = byId('audit-filter');
  const query = () => {
    const data = new FormData(filter);
    return {
      from: instant(data.get('from')),
      to: instant(data.get('to')),
      actor: String(data.get('actor')).trim(),
      action: String(data.get('action')).trim(),
      target: String(data.get('target')).trim(),
      status: String(data.get('status')).trim(),
    };
  };
  const reload = pagedTable(byId('audit-list'), {
    path: '/audit',
    query,
    caption: t('nav.audit'),
    columns: [
      { label: t('audit.at'), cell: (e) => formatTime(e.at) },
      { label: t('audit.col.actor'), cell: (e) => e.actor },
      { label: t('audit.via'), cell: (e) => e.via },
      { label: t('audit.col.action'), cell: (e) => e.action },
      { label: t('audit.col.target'), cell: (e) => e.target || '—' },
      { label: t('audit.status'), cell: (e) => statusBadge(e.status) },
      { label: t('audit.ip'), cell: (e) => e.ip || '—' },
      { label: t('audit.detail'), cell: detail },
    ],
  });
  filter.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(filter);
    try {
      await reload(1);
    } catch (error) {
      if (error?.status !== 401) showErrors(filter, error, 'audit-');
    }
  });
  await reload(1);
});
