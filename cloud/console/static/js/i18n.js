// The page's words: the catalog the server embedded for the chosen language (cloud/console/i18n.py).
// Keys are written out in full at every call, so the catalog test can find them all; an
// enumeration is a map of literal calls, never a key built from a prefix and a value.

const catalog = JSON.parse(document.getElementById('catalog').textContent);
export const language = document.documentElement.lang || 'en';

/** The text of `key` with its {placeholders} filled from `params`. */
export function t(key, params = {}) {
  const text = catalog[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const dateTime = new Intl.DateTimeFormat(language, { dateStyle: 'short', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(language, { timeStyle: 'short' });

/** A timestamp (ISO-8601 or Date) in the page's language; '—' for none. */
export function formatTime(value) {
  if (value === null || value === undefined || value === '') return '—';
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? '—' : dateTime.format(date);
}

/** Hours and minutes only, e.g. for "live paused since 14:05". */
export function formatClock(value) {
  return timeOnly.format(value instanceof Date ? value : new Date(value));
}

/** A number with `digits` decimals and `unit` after it; '—' for none. */
export function formatNumber(value, digits = 0, unit = '') {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const text = Number(value).toLocaleString(language, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return unit ? `${text} ${unit}` : text;
}

/** How long ago `value` was, in words ("3 min ago"). */
export function formatAgo(value, now = Date.now()) {
  if (!value) return t('time.never');
  const seconds = Math.max(0, Math.round((now - new Date(value).getTime()) / 1000));
  if (seconds < 60) return t('time.seconds_ago', { n: seconds });
  if (seconds < 3600) return t('time.minutes_ago', { n: Math.floor(seconds / 60) });
  if (seconds < 86400) return t('time.hours_ago', { n: Math.floor(seconds / 3600) });
  return t('time.days_ago', { n: Math.floor(seconds / 86400) });
}
