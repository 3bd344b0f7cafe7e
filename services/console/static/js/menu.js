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
  { group: 'report', path: '/verify', title: '核实提交', roles: ['provider'], seed: '1.3.4',
    page: () => import('./pages/cases.js') },
  { group: 'report', path: '/self-filing', title: '自主备案', roles: ['sponsor'],
    page: () => import('./pages/self-filing.js') },
  { group: 'report', path: '/my-applications', title: '我的备案申请', roles: ['sponsor'],
    page: () => import('./pages/my-applications.js') },

  // ---- 备案业务管理
  { group: 'business', path: '/business/add-website', title: '新增网站', roles: ['provider'], seed: '1.4.1',
    page: () => import('./pages/business-list.js') },
  { group: 'business', path: '/business/find-subject', title: '查找已备案主体', roles: ['provider'], seed: '1.4.1',
    page: () => import('./pages/business-find-subject.js') },
  { group: 'business', path: '/business/add-access', title: '新增接入', roles: ['provider'], seed: '1.4.2',
    page: () => import('./pages/business-add-access.js') },
  { group: 'business', path: '/business/change-subject', title: '变更主体', roles: ['provider'], seed: '1.4.3',
    page: () => import('./pages/business-list.js') },
  { group: 'business', path: '/business/change-website', title: '变更网站', roles: ['provider'], seed: '1.4.4',
    page: () => import('./pages/business-list.js') },
  { group: 'business', path: '/business/change-access', title: '变更接入', roles: ['provider'], seed: '1.4.5',
    page: () => import('./pages/business-list.js') },
  { group: 'business', path: '/business/cancel-subject', title: '注销主体申请', roles: ['provider'], seed: '1.5.2',
    page: () => import('./pages/cancellations.js') },
  { group: 'business', path: '/business/cancel-website', title: '注销网站申请', roles: ['provider'], seed: '1.5.3',
    page: () => import('./pages/cancellations.js') },
  { group: 'business', path: '/business/certificates', title: '电子证书下载', roles: ['provider'], seed: '1.5.1',
    page: () => import('./pages/reporting-certificates.js') },

  // ---- 管局审核
  { group: 'review', path: '/review', title: '备案审核', roles: ['bureau', 'admin'],
    page: () => import('./pages/cases.js') },
  { group: 'review', path: '/review/feedback', title: '意见反馈答复', roles: ['bureau', 'admin'], seed: '1.13',
    page: () => import('./pages/feedback-replies.js') },

  // ---- 系统管理
  { group: 'system', path: '/admin/users', title: '用户管理', roles: ['admin'], page: () => import('./pages/admin-users.js') },
  { group: 'system', path: '/sponsors/passwords', title: '主办者密码重置', roles: ['provider'], seed: '1.6.1',
    page: () => import('./pages/sponsor-passwords.js') },
  { group: 'system', path: '/admin/providers', title: '接入服务提供者', roles: ['admin'],
    page: () => import('./pages/admin-providers.js') },
  { group: 'system', path: '/admin/announcements', title: '通知公告管理', roles: ['admin'],
    page: () => import('./pages/admin-articles.js') },
  { group: 'system', path: '/admin/laws', title: '政策法规管理', roles: ['admin'], page: () => import('./pages/admin-articles.js') },

  // ---- 查询统计服务
  { group: 'query', path: '/query/progress', title: '网站备案进度查询', roles: ['provider', 'bureau', 'admin'], seed: '1.7.1',
    page: () => import('./pages/reporting-progress.js') },
  { group: 'query', path: '/query/filings', title: '网站备案信息查询', roles: ['provider', 'bureau', 'admin'], seed: '1.7.2',
    page: () => import('./pages/reporting-filings.js') },
  { group: 'query', path: '/query/combined', title: '网站备案信息组合查询', roles: ['provider', 'bureau', 'admin'], seed: '1.7.3',
    page: () => import('./pages/reporting-filings.js') },
  { group: 'query', path: '/query/statistics', title: '网站备案信息统计', roles: ['provider', 'bureau', 'admin'], seed: '1.7.4',
    page: () => import('./pages/reporting-statistics.js') },
  { group: 'query', path: '/records/subjects', title: '主体查询', roles: ALL_ROLES, page: () => import('./pages/subjects.js') },
  { group: 'query', path: '/records/websites', title: '网站查询', roles: ALL_ROLES, page: () => import('./pages/websites.js') },

  // ---- 未备案网站管理
  { group: 'unfiled', path: '/unfiled', title: '未备案检测结果查询', roles: ['provider', 'bureau', 'admin'], seed: '1.8.1',
    page: () => import('./pages/unfiled.js') },
  { group: 'unfiled', path: '/unfiled-statistics', title: '未备案检测结果统计', roles: ['provider', 'bureau', 'admin'],
    seed: '1.8.2', page: () => import('./pages/unfiled-stats.js') },

  // ---- 黑名单查询
  { group: 'blacklist', path: '/blacklist', title: '备案信息黑名单查询', roles: ['provider', 'bureau', 'admin'], seed: '1.9.1',
    page: () => import('./pages/blacklist.js') },
  { group: 'blacklist', path: '/illegal-access', title: '非法接入黑名单查询', roles: ['provider', 'bureau', 'admin'],
    seed: '1.9.2', page: () => import('./pages/illegal-access.js') },

  // ---- reached by link (top-right links, details): no menu group
  { group: null, path: '/cases/:id', title: '申请详情', roles: ['provider', 'bureau', 'admin'],
    page: () => import('./pages/case.js') },
  { group: null, path: '/records/subjects/:id', title: '主体详情', roles: ALL_ROLES, page: () => import('./pages/subject.js') },
  { group: null, path: '/records/websites/:id', title: '网站详情', roles: ALL_ROLES, page: () => import('./pages/website.js') },
  { group: null, path: '/applications/:id/correct', title: '更正申请', roles: ['provider'],
    page: () => import('./pages/application-correct.js') },
  { group: null, path: '/business/add-website/:id', title: '新增网站', roles: ['provider'], seed: '1.4.1',
    page: () => import('./pages/business-add-website.js') },
  { group: null, path: '/business/change-subject/:id', title: '变更主体', roles: ['provider'], seed: '1.4.3',
    page: () => import('./pages/business-change-subject.js') },
  { group: null, path: '/business/change-website/:id', title: '变更网站', roles: ['provider'], seed: '1.4.4',
    page: () => import('./pages/business-change-website.js') },
  { group: null, path: '/business/change-access/:id', title: '变更接入', roles: ['provider'], seed: '1.4.5',
    page: () => import('./pages/business-change-access.js') },
  { group: null, path: '/unfiled/:id', title: '检测结果', roles: ['provider', 'bureau', 'admin'], seed: '1.8.1',
    page: () => import('./pages/unfiled-detail.js') },
  { group: null, path: '/blacklist/:id', title: '黑名单详细信息', roles: ['provider', 'bureau', 'admin'], seed: '1.9.1',
    page: () => import('./pages/blacklist-detail.js') },
  { group: null, path: '/query/filings/:id', title: '备案详细信息', roles: ['provider', 'bureau', 'admin'], seed: '1.7.2',
    page: () => import('./pages/reporting-filing.js') },
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
  // homeLink: listed under 公共信息查询 on the portal home
  { path: '/lookup', title: '公共查询（备案信息）', homeLink: true, page: () => import('./pages/public-lookup.js') },
  { path: '/codes', title: '公共查询（代码表）', seed: '1.10', homeLink: true, page: () => import('./pages/codes.js') },
  { path: '/register', title: '自主备案账号注册', page: () => import('./pages/register.js') },
  { path: '/articles/:category/:id', title: '公告与法规', page: () => import('./pages/article.js') },
];

/** The menu of a role: groups with the entries it may use, empty groups left out. */
export function menuFor(role) {
  return GROUPS.map((g) => ({
    ...g,
    items: PAGES.filter((p) => p.group === g.key && p.roles.includes(role)),
  })).filter((g) => g.items.length > 0);
}
