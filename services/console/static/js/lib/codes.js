// Code tables (GET /api/filing/codes/{table}, public), loaded once per table and filter, and
// the region tree (province → city → county, GB/T 2260) shipped with the console.
// Codes are always shown by their Chinese names: `codeName('unit_natures', 'ENTERPRISE')` → 企业.
import { api } from './api.js';

const cache = new Map(); // key → Promise<rows>
const names = Vue.reactive({}); // table → {code: name_zh}, filled as tables load

export function loadCodes(table, filter = {}) {
  const key = table + JSON.stringify(filter);
  if (!cache.has(key)) {
    const p = api.get(`/filing/codes/${table}`, { query: filter }).then((out) => {
      const map = names[table] || (names[table] = {});
      for (const row of out.items) map[row.code] = row.name_zh;
      return out.items;
    });
    p.catch(() => cache.delete(key)); // a failed load is retried next time
    cache.set(key, p);
  }
  return cache.get(key);
}

/** The Chinese name of a code (reactive: updates when the table arrives); '' for empty. */
export function codeName(table, code) {
  if (code === null || code === undefined || code === '') return '';
  if (!names[table]) loadCodes(table).catch(() => {});
  const map = names[table];
  return (map && map[code]) || (map ? code : '…');
}

export function codeNames(table, list, sep = '、') {
  return (list || []).map((c) => codeName(table, c)).join(sep);
}

// ---------------------------------------------------------------- regions

let regionsPromise = null;
const regionNames = Vue.reactive({});

/** [[code, name, [[cityCode, cityName, [[countyCode, countyName], …]], …]], …] */
export function loadRegions() {
  if (!regionsPromise) {
    regionsPromise = fetch('/data/regions.json', { cache: 'force-cache' })
      .then((r) => r.json())
      .then((tree) => {
        for (const [pc, pn, cities] of tree) {
          regionNames[pc] = pn;
          for (const [cc, cn, counties] of cities) {
            regionNames[cc] = cn;
            for (const [kc, kn] of counties) regionNames[kc] = kn;
          }
        }
        return tree;
      });
  }
  return regionsPromise;
}

/** Name of a 6-digit region code (110105 → 朝阳区). */
export function regionName(code) {
  if (!code) return '';
  if (!regionsPromise) loadRegions();
  return regionNames[code] || code;
}

/** "北京市 市辖区 朝阳区" of a subject's province/city/county. */
export function regionPath(province, city, county) {
  return [province, city, county].filter(Boolean).map(regionName).join(' ');
}
