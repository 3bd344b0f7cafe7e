// Display formats: dates and times in Beijing time, as Chinese users read them.
const TZ = 'Asia/Shanghai';

function parts(value, withTime) {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const opts = { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hourCycle: 'h23' };
  if (withTime) Object.assign(opts, { hour: '2-digit', minute: '2-digit' });
  const p = Object.fromEntries(new Intl.DateTimeFormat('zh-CN', opts).formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}` + (withTime ? ` ${p.hour}:${p.minute}` : '');
}

/** 2026-12-06T12:30:00Z → "2026-12-06 20:30" */
export const fmtTime = (v) => parts(v, true);
/** → "2026-12-06" (a plain date string is shown as it is) */
export const fmtDate = (v) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : parts(v, false));
