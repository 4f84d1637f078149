// The live map's fleet: every device of the caller's scope by id, built from the columnar
// snapshot (GET /api/live/devices) and kept current by the stream's whole rows, and the
// filters of the side list (which the map follows too).

const SEVERITY_RANK = { info: 1, warning: 2, critical: 3 };

/** How a device looks on the map: 'offline', or its SOC band when online. */
export function band(device) {
  if (!device.online) return 'offline';
  if (device.soc_percent === null || device.soc_percent === undefined) return 'unknown';
  if (device.soc_percent < 20) return 'low';
  if (device.soc_percent < 50) return 'mid';
  return 'high';
}

/** The rank of a device's worst open alarm (0: none). */
export function alarmRank(device) {
  return SEVERITY_RANK[device.alarm_severity] || 0;
}

/** Discharge cut off: the pack's discharge MOS is off (it cannot power the vehicle). */
export function isCut(device) {
  return device.discharge_mos === false;
}

export function hasPosition(device) {
  return typeof device.lat === 'number' && typeof device.lon === 'number';
}

/** The devices by id, and their ids in the list's order (by id, as the snapshot sorts). */
export class Fleet {
  constructor() {
    this.byId = new Map();
    this.order = [];
  }

  /** Replace everything with a snapshot `{columns, rows}`. */
  load({ columns, rows }) {
    this.byId = new Map();
    for (const row of rows) {
      const device = toDevice(columns, row);
      this.byId.set(device.id, device);
    }
    this.order = [...this.byId.keys()].sort(byCodePoint);
  }

  /** Apply whole rows of the stream; returns the ids changed. */
  apply({ columns, rows }) {
    let added = false;
    const changed = [];
    for (const row of rows) {
      const device = toDevice(columns, row);
      if (!this.byId.has(device.id)) added = true;
      this.byId.set(device.id, device);
      changed.push(device.id);
    }
    if (added) this.order = [...this.byId.keys()].sort(byCodePoint);
    return changed;
  }

  /** Forget devices that left the caller's scope. */
  remove(ids) {
    let removed = false;
    for (const id of ids) removed = this.byId.delete(id) || removed;
    if (removed) this.order = this.order.filter((id) => this.byId.has(id));
  }

  /** The models and store ids present (for the filters' choices). */
  choices() {
    const models = new Set();
    const stores = new Set();
    for (const device of this.byId.values()) {
      if (device.model) models.add(device.model);
      if (device.store_id !== null) stores.add(device.store_id);
    }
    return { models: [...models].sort(), stores: [...stores] };
  }

  /** The ids passing `filter` (see `matcher`), in list order. */
  select(filter) {
    const keep = matcher(filter);
    return this.order.filter((id) => keep(this.byId.get(id)));
  }
}

function byCodePoint(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toDevice(columns, row) {
  const device = {};
  for (let i = 0; i < columns.length; i += 1) device[columns[i]] = row[i];
  return device;
}

/** A predicate from the filter form's values: q, store, model, online, alarm, lease. */
export function matcher({ q = '', store = '', model = '', online = '', alarm = '', lease = '' }) {
  const needle = q.trim().toLowerCase();
  return (device) => {
    if (needle && !device.id.toLowerCase().includes(needle) && !(device.model || '').toLowerCase().includes(needle)) {
      return false;
    }
    if (store && String(device.store_id) !== store) return false;
    if (model && device.model !== model) return false;
    if (online === 'online' && !device.online) return false;
    if (online === 'offline' && device.online) return false;
    if (alarm === 'any' && !device.alarm_severity) return false;
    if (alarm === 'none' && device.alarm_severity) return false;
    if (alarm && alarm !== 'any' && alarm !== 'none' && device.alarm_severity !== alarm) return false;
    if (lease && device.lease !== lease) return false;
    return true;
  };
}
