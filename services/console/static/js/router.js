// Hash routes built from menu.js. A page that needs a login and a role is guarded here;
// a reload keeps the route and its query (filters, page), and the server needs no fallback.
import { PAGES, PUBLIC_PAGES } from './menu.js';
import { loadSession, session } from './lib/session.js';

const { createRouter, createWebHashHistory } = VueRouter;

const routes = [
  { path: '/', name: 'home', component: () => import('./pages/home.js'),
    meta: { public: true, title: '首页' } },
  ...PUBLIC_PAGES.map((p) => ({ path: p.path, component: p.page, meta: { public: true, title: p.title } })),
  ...PAGES.map((p) => ({ path: p.path, component: p.page, meta: { roles: p.roles, title: p.title } })),
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('./pages/not-found.js'),
    meta: { public: true, title: '页面不存在' } },
];

export const router = createRouter({
  history: createWebHashHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
});

router.beforeEach(async (to) => {
  if (!session.checked) await loadSession();
  if (to.meta.public) return true;
  if (!session.user) return { name: 'home', query: { redirect: to.fullPath } };
  if (to.meta.roles && !to.meta.roles.includes(session.user.role)) {
    return { name: 'not-found', params: { rest: to.path.split('/').filter(Boolean) } };
  }
  return true;
});

router.afterEach((to) => {
  document.title = (to.meta.title ? to.meta.title + ' - ' : '') + 'ICP/IP地址/域名信息备案管理系统';
});

/** Where a user lands after login: the page they asked for, else the welcome page. */
export function landingFor(query) {
  const r = query && query.redirect;
  return typeof r === 'string' && r.startsWith('/') && !r.startsWith('//') ? r : '/welcome';
}
