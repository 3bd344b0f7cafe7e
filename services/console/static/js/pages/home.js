// The portal home (seed 1.1, 1.2): login box, announcements, laws and regulations, system help,
// public query links (every PUBLIC_PAGES entry with `homeLink: true` in menu.js).
import { api, ApiError } from '../lib/api.js';
import { useCaptcha, useFieldErrors } from '../lib/form.js';
import { fmtDate } from '../lib/format.js';
import { login, logout, ROLE_LABELS, session } from '../lib/session.js';
import { landingFor } from '../router.js';
import { PUBLIC_PAGES } from '../menu.js';

const { ref, reactive, onMounted } = Vue;

const LoginBox = {
  name: 'LoginBox',
  setup() {
    const route = VueRouter.useRoute();
    const router = VueRouter.useRouter();
    const form = reactive({ username: '', password: '', captcha: '', role: 'provider', captcha_id: '' });
    const { image, refresh: refreshCaptcha } = useCaptcha(form);
    const busy = ref(false);
    const message = ref('');
    const f = useFieldErrors();
    const roles = Object.entries(ROLE_LABELS).map(([value, label]) => ({ value, label }));

    async function submit() {
      message.value = '';
      busy.value = true;
      try {
        const done = await f.run(() => login({ ...form }));
        if (done) {
          router.replace(landingFor(route.query));
          return;
        }
        message.value = f.state.detail;
        await refreshCaptcha(); // a captcha answers once
      } catch (e) {
        if (!(e instanceof ApiError) || e.handled) throw e;
        message.value = e.detail; // wrong password, locked account …
        await refreshCaptcha();
      } finally {
        busy.value = false;
      }
    }
    return { form, image, busy, message, f, roles, refreshCaptcha, submit };
  },
  template: `
  <el-card class="login-box" shadow="never">
    <template #header><strong>备案信息报备用户</strong></template>
    <el-form :model="form" label-width="64px" @submit.prevent="submit" class="login-form">
      <el-form-item label="用户名" :error="f.err('username')">
        <el-input v-model="form.username" autocomplete="username" name="username" maxlength="64" />
      </el-form-item>
      <el-form-item label="密码" :error="f.err('password')">
        <el-input v-model="form.password" type="password" autocomplete="current-password" name="password"
                  show-password maxlength="128" />
      </el-form-item>
      <el-form-item label="验证码" :error="f.err('captcha') || f.err('captcha_id')">
        <div class="captcha-row">
          <el-input v-model="form.captcha" name="captcha" maxlength="16" autocomplete="off" />
          <img v-if="image" :src="image" class="captcha-img" alt="验证码，点击刷新" title="看不清？点击刷新"
               data-test="captcha" @click="refreshCaptcha" />
        </div>
      </el-form-item>
      <el-form-item label="角色" :error="f.err('role')">
        <el-select v-model="form.role" name="role" data-test="role">
          <el-option v-for="r in roles" :key="r.value" :label="r.label" :value="r.value" />
        </el-select>
      </el-form-item>
      <el-alert v-if="message" :title="message" type="error" :closable="false" show-icon class="login-message" />
      <form-errors :form="f" />
      <el-form-item>
        <el-button type="primary" native-type="submit" :loading="busy" data-test="login">登录</el-button>
        <router-link to="/register" class="register-link" data-test="register-link">网站主办者自主备案注册</router-link>
      </el-form-item>
    </el-form>
  </el-card>`,
};

const ArticleList = {
  name: 'ArticleList',
  props: { category: String, title: String },
  setup(props) {
    const items = ref([]);
    const path = props.category === 'law' ? '/filing/laws' : '/filing/announcements';
    onMounted(async () => {
      items.value = (await api.get(path, { query: { page_size: 8 }, auth: false })).items;
    });
    return { items, fmtDate };
  },
  template: `
  <el-card shadow="never" class="home-panel">
    <template #header><strong>{{ title }}</strong></template>
    <el-empty v-if="!items.length" description="暂无内容" :image-size="60" />
    <ul class="article-list">
      <li v-for="a in items" :key="a.id">
        <router-link :to="'/articles/' + category + '/' + a.id">
          <el-tag v-if="a.pinned" size="small" type="danger">置顶</el-tag> {{ a.title }}
        </router-link>
        <span class="date">{{ fmtDate(a.published_at) }}</span>
      </li>
    </ul>
  </el-card>`,
};

export default {
  name: 'HomePage',
  components: { LoginBox, ArticleList },
  setup() {
    const router = VueRouter.useRouter();
    const links = PUBLIC_PAGES.filter((p) => p.homeLink);
    async function doLogout() { await logout(); }
    return { session, links, ROLE_LABELS, doLogout, enter: () => router.push('/welcome') };
  },
  template: `
  <div class="home">
    <div class="home-side">
      <login-box v-if="!session.user" />
      <el-card v-else shadow="never" class="login-box">
        <template #header><strong>备案信息报备用户</strong></template>
        <p>您已登录：{{ session.user.display_name }}（{{ ROLE_LABELS[session.user.role] }}）</p>
        <el-button type="primary" @click="enter">进入系统</el-button>
        <el-button @click="doLogout">退出系统</el-button>
      </el-card>
      <el-card shadow="never" class="home-panel">
        <template #header><strong>公共信息查询</strong></template>
        <ul class="link-list">
          <li v-for="l in links" :key="l.path"><router-link :to="l.path">{{ l.title }}</router-link></li>
        </ul>
      </el-card>
    </div>
    <div class="home-main">
      <article-list category="announcement" title="通知公告" />
      <article-list category="law" title="政策法规" />
      <el-card shadow="never" class="home-panel">
        <template #header><strong>系统帮助：备案流程</strong></template>
        <el-steps :active="0" process-status="wait" align-center class="help-steps">
          <el-step title="录入" description="代为录入或批量导入主体、网站与接入信息" />
          <el-step title="核实" description="接入服务商核实信息并填写核实意见" />
          <el-step title="前置审批" description="涉及前置审批的网站等待审批结果" />
          <el-step title="管局审核" description="省通信管理局审核通过或驳回" />
          <el-step title="发放备案号" description="审核通过后分配主体与网站备案号" />
        </el-steps>
        <p class="help-text">主办单位首次备案后由系统生成主办者用户名和密码，请妥善交付；新增接入和变更主体时须提供该用户名和密码。
          登录后可在右上角“意见反馈”向管局提出意见或建议。</p>
      </el-card>
    </div>
  </div>`,
};
