// One announcement (通知公告) or law (政策法规), public.
import { api } from '../lib/api.js';
import { fmtDate, fmtTime } from '../lib/format.js';

const PATHS = { announcement: '/filing/announcements', law: '/filing/laws' };

export default {
  name: 'ArticlePage',
  setup() {
    const route = VueRouter.useRoute();
    const article = Vue.ref(null);
    const missing = Vue.ref(false);
    Vue.onMounted(async () => {
      const base = PATHS[route.params.category];
      if (!base) { missing.value = true; return; }
      try {
        article.value = await api.get(`${base}/${encodeURIComponent(route.params.id)}`, { auth: false });
      } catch (e) {
        if (e.status === 404 || e.status === 422) missing.value = true; else throw e;
      }
    });
    return { article, missing, fmtDate, fmtTime };
  },
  template: `
  <page-card :title="article ? article.title : '公告与法规'">
    <template #actions><el-button @click="$router.back()">返回</el-button></template>
    <el-empty v-if="missing" description="该内容不存在或已删除" />
    <article v-else-if="article" class="article">
      <p class="article-meta">
        <span v-if="article.issuer">发布机关：{{ article.issuer }}</span>
        <span v-if="article.document_no">文号：{{ article.document_no }}</span>
        <span v-if="article.effective_on">施行日期：{{ fmtDate(article.effective_on) }}</span>
        <span>发布时间：{{ fmtTime(article.published_at) }}</span>
      </p>
      <div class="article-body">{{ article.body }}</div>
    </article>
  </page-card>`,
};
