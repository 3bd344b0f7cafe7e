// The one way pages talk to the gateway: `api.get('/filing/me')` → GET /api/filing/me.
//
// - Session: the HttpOnly cookie the API sets at login (same origin, sent by the browser).
// - 401 anywhere (except calls made with {auth: false}, e.g. the login itself) → the
//   `icp:unauthorized` event: main.js clears the session and returns to the login box.
// - 5xx and network failures → an error toast here; the thrown ApiError is `handled`.
// - Other 4xx → thrown ApiError with `detail` (Chinese) and `errors` [{field, message}];
//   a page shows them (lib/form.js puts field errors beside their fields). An ApiError
//   nobody catches is shown as a toast by the global handler (main.js).

const { ElMessage } = ElementPlus;

export class ApiError extends Error {
  constructor(status, body, handled = false) {
    const detail = (body && (body.detail || body.title)) || (status ? `请求失败（${status}）` : '网络连接失败');
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.body = body || {};
    this.detail = detail;
    this.errors = Array.isArray(body && body.errors) ? body.errors : [];
    this.handled = handled;
  }
}

export function toastError(message) {
  ElMessage({ type: 'error', message, showClose: true, duration: 5000, grouping: true });
}

/** Close the error toasts still showing (a refusal's, once the form went through). */
export function closeErrorToasts() {
  ElMessage.closeAll('error');
}

export function toastSuccess(message) {
  ElMessage({ type: 'success', message, duration: 2500, grouping: true });
}

/** `{a: 1, b: '', c: [x, y]}` → `?a=1&c=x&c=y` (empty values left out). */
export function queryString(query) {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? '?' + s : '';
}

async function request(method, path, { body, query, form, raw = false, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (form !== undefined) payload = form; // FormData: the browser sets the multipart boundary
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch('/api' + path + queryString(query), {
      method, headers, body: payload, credentials: 'same-origin', cache: 'no-store',
    });
  } catch (e) {
    toastError('网络连接失败，请检查网络后重试');
    throw new ApiError(0, null, true);
  }
  if (resp.ok) {
    if (raw) return resp;
    if (resp.status === 204) return null;
    const type = resp.headers.get('Content-Type') || '';
    return type.includes('json') ? resp.json() : resp;
  }
  let data = null;
  try {
    data = await resp.json();
  } catch (e) {
    data = null;
  }
  if (resp.status === 401 && auth) {
    window.dispatchEvent(new CustomEvent('icp:unauthorized'));
    throw new ApiError(401, data, true);
  }
  if (resp.status >= 500) {
    const id = resp.headers.get('X-Request-ID');
    toastError(`服务器暂时无法处理请求（${resp.status}），请稍后重试` + (id ? `。请求编号：${id}` : ''));
    throw new ApiError(resp.status, data, true);
  }
  throw new ApiError(resp.status, data, false);
}

export const api = {
  get: (path, opts = {}) => request('GET', path, opts),
  post: (path, body, opts = {}) => request('POST', path, { ...opts, body }),
  put: (path, body, opts = {}) => request('PUT', path, { ...opts, body }),
  patch: (path, body, opts = {}) => request('PATCH', path, { ...opts, body }),
  del: (path, opts = {}) => request('DELETE', path, opts),
  upload: (path, formData, opts = {}) => request('POST', path, { ...opts, form: formData }),
  raw: (path, opts = {}) => request('GET', path, { ...opts, raw: true }),
};

function filenameOf(resp, fallback) {
  const cd = resp.headers.get('Content-Disposition') || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  return plain ? plain[1] : fallback;
}

/** Download a file from the API (errors handled like any call) and save it under its name. */
export async function download(path, fallbackName = 'download') {
  const resp = await api.raw(path);
  const blob = await resp.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filenameOf(resp, fallbackName);
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}
