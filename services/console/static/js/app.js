// The frame around every page: the portal frame (public pages, not logged in) or the console
// frame (left menu with the role's groups, top-right links of the seed).
import { menuFor } from './menu.js';
import { logout, ROLE_LABELS, session } from './lib/session.js';
import { toastSuccess } from './lib/api.js';

const { computed, ref, onMounted, onBeforeUnmount } = Vue;
const { useRoute, useRouter } = VueRouter;

const SYSTEM_TITLE = 'ICP/IP地址/域名信息备案管理系统';

const PortalFrame = {
  name: 'PortalFrame',
  template: `
  <div class="portal">
    <header class="portal-header">
      <router-link to="/" class="brand"><span class="brand-mark">备</span>${SYSTEM_TITLE}</router-link>
      <nav class="portal-links no-print">
        <router-link to="/">首页</router-link>
        <router-link to="/codes">公共查询</router-link>
      </nav>
    </header>
    <main class="portal-main"><slot /></main>
    <footer class="portal-footer">中华人民共和国工业和信息化部 · 接入服务提供者备案管理</footer>
  </div>`,
};

// The role's menu groups, all open; shown beside the page, or in a drawer on a narrow window.
const SideMenu = {
  name: 'SideMenu',
  props: { groups: { type: Array, required: true }, active: String },
  emits: ['go'],
  setup(props) {
    return { openGroups: computed(() => props.groups.map((g) => g.key)) };
  },
  template: `
  <el-menu :default-active="active" :default-openeds="openGroups" class="side-menu">
    <el-sub-menu v-for="g in groups" :key="g.key" :index="g.key">
      <template #title><el-icon><component :is="g.icon" /></el-icon><span>{{ g.title }}</span></template>
      <el-menu-item v-for="item in g.items" :key="item.path" :index="item.path" @click="$emit('go', item.path)">
        {{ item.title }}
      </el-menu-item>
    </el-sub-menu>
  </el-menu>`,
};

const ConsoleFrame = {
  name: 'ConsoleFrame',
  components: { SideMenu },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const narrow = ref(window.innerWidth < 900);
    const drawer = ref(false);
    const onResize = () => { narrow.value = window.innerWidth < 900; };
    onMounted(() => window.addEventListener('resize', onResize));
    onBeforeUnmount(() => window.removeEventListener('resize', onResize));
    const groups = computed(() => (session.user ? menuFor(session.user.role) : []));
    const roleLabel = computed(() => (session.user ? ROLE_LABELS[session.user.role] || session.user.role : ''));
    const activePath = computed(() => route.path);
    async function doLogout() {
      await logout();
      toastSuccess('已退出系统');
      // replace: the page that showed data is not left behind as the current entry
      router.replace({ name: 'home' });
    }
    function print() { window.print(); }
    function go(path) { drawer.value = false; router.push(path); }
    return { session, groups, roleLabel, activePath, doLogout, print, narrow, drawer, go, title: SYSTEM_TITLE };
  },
  template: `
  <el-container class="console">
    <el-header class="console-header" height="auto">
      <div class="header-left">
        <el-button v-if="narrow" class="no-print menu-toggle" text @click="drawer = true" aria-label="菜单">
          <el-icon :size="20"><icon-expand /></el-icon>
        </el-button>
        <router-link to="/welcome" class="brand"><span class="brand-mark">备</span>{{ title }}</router-link>
      </div>
      <div class="header-right">
        <span class="who" data-test="who">{{ session.user && session.user.display_name }}（{{ roleLabel }}）</span>
        <nav class="top-links no-print">
          <router-link to="/codes">公共查询</router-link>
          <router-link to="/password">修改密码</router-link>
          <router-link to="/profile">修改个人信息</router-link>
          <router-link to="/feedback">意见反馈</router-link>
          <a href="#" @click.prevent="print">页面打印</a>
          <a href="#" data-test="logout" @click.prevent="doLogout">退出系统</a>
        </nav>
      </div>
    </el-header>
    <el-container class="console-body">
      <el-aside v-if="!narrow" width="220px" class="console-aside no-print">
        <side-menu :groups="groups" :active="activePath" @go="go" />
      </el-aside>
      <el-drawer v-else v-model="drawer" direction="ltr" size="260px" title="功能菜单" class="no-print">
        <side-menu :groups="groups" :active="activePath" @go="go" />
      </el-drawer>
      <el-main class="console-main"><slot /></el-main>
    </el-container>
  </el-container>`,
};

export default {
  name: 'ConsoleApp',
  components: { PortalFrame, ConsoleFrame },
  setup() {
    const route = useRoute();
    // public pages use the console frame when somebody is logged in (except the portal home)
    const portal = computed(() => route.name === 'home' || (route.meta.public && !session.user));
    return { portal, route, session };
  },
  // no user (logged out, 401): the console's pages unmount at once, before the route changes
  template: `
  <portal-frame v-if="portal"><router-view :key="route.path" /></portal-frame>
  <console-frame v-else-if="session.user"><router-view :key="route.path" /></console-frame>`,
};
