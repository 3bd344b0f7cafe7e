// THE menu and route table: one entry per page. To add a page, add one line here.
//
//   group: the left-menu group (key of GROUPS) or null for a page reached by link only
//          (detail pages, top-right links);
//   path:  the hash route (`/#/records/subjects?page=2`; filters live in the query);
//   title: the Chinese menu text and page title;
//   roles: who may open it (provider, bureau, sponsor, admin); the menu shows only those;
//   page:  () => import('./pages/<file>.js'), the page module (its default export);
//   seed:  the seed manual's section, for readers.
// A group with no entry the current role may use is not shown.

export const ALL_ROLES = ['provider', 'bureau', 'sponsor', 'admin'];

export const GROUPS = [
  { key: 'report', title: '备案信息上报', icon: 'IconUpload' },
  { key: 'business', title: '备案业务管理', icon: 'IconFolderOpened' },
  { key: 'review', title: '管局审核', icon: 'IconStamp' },
  { key: 'system', title: '系统管理', icon: 'IconSetting' },
  { key: 'query', title: '查询统计服务', icon: 'IconDataAnalysis' },
  { key: 'unfiled', title: '未备案网站管理', icon: 'IconWarning' },
  { key: 'blacklist', title: '黑名单查询', icon: 'IconList' },
];

export const PAGES = [
  // ---- 备案信息上报
  { group: 'report', path: '/entry', title: '代为录入', roles: ['provider'], seed: '1.3.1',
    page: () => import('./pages/entry.js') },
  { group: 'report', path: '/import', title: '批量导入', roles: ['provider'], seed: '1.3.2',
    page: () => import('./pages/import.js') },

  // ---- 备案业务管理

  // ---- 管局审核

  // ---- 系统管理

  // ---- 查询统计服务

  // ---- 未备案网站管理

  // ---- 黑名单查询

  // ---- reached by link (top-right links, details): no menu group
  { group: null, path: '/welcome', title: '首页', roles: ALL_ROLES, page: () => import('./pages/welcome.js') },
  { group: null, path: '/password', title: '修改密码', roles: ALL_ROLES, seed: '1.11',
    page: () => import('./pages/password.js') },
  { group: null, path: '/profile', title: '修改个人信息', roles: ALL_ROLES, seed: '1.12',
    page: () => import('./pages/profile.js') },
  { group: null, path: '/feedback', title: '意见反馈', roles: ALL_ROLES, seed: '1.13',
    page: () => import('./pages/feedback.js') },
];

// Public pages (no login): shown in the console frame when logged in, in the portal frame otherwise.
export const PUBLIC_PAGES = [
  // homeLink: listed under 公共信息查询 on the portal home (reporting: add the public filing lookup here)
  { path: '/codes', title: '公共查询（代码表）', seed: '1.10', homeLink: true, page: () => import('./pages/codes.js') },
  { path: '/articles/:category/:id', title: '公告与法规', page: () => import('./pages/article.js') },
];

/** The menu of a role: groups with the entries it may use, empty groups left out. */
export function menuFor(role) {
  return GROUPS.map((g) => ({
    ...g,
    items: PAGES.filter((p) => p.group === g.key && p.roles.includes(role)),
  })).filter((g) => g.items.length > 0);
}
