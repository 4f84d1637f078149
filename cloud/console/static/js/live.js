// Following a server-sent event stream of the API (the session cookie goes with it): the
// bar says "live" or "live paused since hh:mm" while the browser reconnects on its own, and
// a `resync` event (or a reconnect after a gap) asks the page to fetch its snapshot again.
import { formatClock, t } from './i18n.js';

function say(state, since) {
  const badge = document.getElementById('live-state');
  if (!badge) return;
  badge.hidden = false;
  badge.dataset.state = state;
  badge.textContent = state === 'live' ? t('live.on') : t('live.paused', { since: formatClock(since) });
}

/**
 * Open `url` (under /api) and call `handlers[eventName](data)` for each event (data parsed
 * from JSON). `handlers.resync()` runs when the stream says it cannot resume, and after a
 * reconnect. Returns a function that closes the stream.
 */
export function follow(url, handlers) {
  const source = new EventSource(`/api${url}`, { withCredentials: true });
  let pausedSince = null;
  source.addEventListener('open', () => {
    if (pausedSince) handlers.resync?.();
    pausedSince = null;
    say('live');
  });
  source.addEventListener('error', () => {
    pausedSince ||= new Date();
    say('paused', pausedSince);
    if (source.readyState === EventSource.CLOSED) handlers.closed?.();
  });
  for (const [name, handle] of Object.entries(handlers)) {
    if (name === 'resync' || name === 'closed') continue;
    source.addEventListener(name, (event) => handle(JSON.parse(event.data), event));
  }
  source.addEventListener('resync', () => handlers.resync?.());
  return () => source.close();
}
