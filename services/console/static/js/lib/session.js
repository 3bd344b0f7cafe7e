// Who is logged in. The session itself is the HttpOnly cookie; this only mirrors GET /api/filing/me.
import { api, ApiError } from './api.js';

export const ROLE_LABELS = {
  provider: 'ICP报备(接入服务商)',
  bureau: '管局审核人员',
  sponsor: '网站主办者',
  admin: '系统管理员',
};

export const session = Vue.reactive({ user: null, checked: false });

// The cookie is HttpOnly (scripts cannot see it); this flag only says "a login happened in this
// browser and no logout since", so an anonymous visit does not ask GET /me for a certain 401.
const FLAG = 'icp.session';
const flag = {
  get: () => { try { return localStorage.getItem(FLAG) === '1'; } catch (e) { return true; } },
  set: (on) => { try { if (on) localStorage.setItem(FLAG, '1'); else localStorage.removeItem(FLAG); } catch (e) { /* private mode */ } },
};

/** Ask the server once who we are (the cookie may still hold a valid session after a reload). */
export async function loadSession() {
  if (!flag.get()) {
    session.user = null;
    session.checked = true;
    return null;
  }
  try {
    session.user = await api.get('/filing/me', { auth: false });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    session.user = null;
    flag.set(false);
  }
  session.checked = true;
  return session.user;
}

export async function login(form) {
  const out = await api.post('/filing/sessions', form, { auth: false });
  session.user = out.user; // the token in the answer is not kept: the cookie carries the session
  session.checked = true;
  flag.set(true);
  return out.user;
}

export function clearSession() {
  session.user = null;
  session.checked = true;
  flag.set(false);
}

export async function logout() {
  try {
    await api.del('/filing/sessions/current', { auth: false });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
  } finally {
    clearSession();
  }
}

export function hasRole(...roles) {
  return !!session.user && roles.includes(session.user.role);
}
