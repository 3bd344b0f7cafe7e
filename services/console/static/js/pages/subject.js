// A subject's detail page: its data and principal, its websites, its applications with their
// status history, and the change log (who changed what, when). Providers get the business actions.
import { api, ApiError } from '../lib/api.js';
import { fmtTime } from '../lib/format.js';
import { hasRole } from '../lib/session.js';
import { entityStatusName, filingMethodName, RECORD_VIEWS } from '../lib/record-views.js';

const { ref, reactive, onMounted } = Vue;
const { useRoute, useRouter } = VueRouter;

export default {
  name: 'SubjectPage',
  components: RECORD_VIEWS,
  setup() {
    const route = useRoute();
    const router = useRouter();
    const id = route.params.id;
    const s = ref(null);
    const missing = ref(false);
    const tab = ref(route.query.tab || 'info');
    const hist = reactive({ items: [], total: 0, page: 1, loading: false });
    const provider = hasRole('provider');

    async function load() {
      try {
        s.value = await api.get(`/filing/subjects/${id}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) missing.value = true;
        else throw e;
      }
    }
    async function loadHistory(page = 1) {
      hist.loading = true;
      try {
        const out = await api.get(`/filing/subjects/${id}/history`, { query: { page, page_size: 20 } });
        Object.assign(hist, { items: out.items, total: out.total, page });
      } finally {
        hist.loading = false;
      }
    }
    function onTab(name) {
      router.replace({ query: name === 'info' ? {} : { tab: name } });
      if (name === 'history' && !hist.items.length) loadHistory();
    }
    onMounted(async () => {
      await load();
      if (tab.value === 'history') loadHistory();
    });
    const filed = () => s.value && ['ACTIVE', 'SHELL', 'NO_ACCESS'].includes(s.value.status);
    const go = (to) => router.push(to);
    return { go, s, missing, tab, hist, provider, filed, onTab, loadHistory, entityStatusName, filingMethodName, fmtTime };
  },
  template: `
  <page-card :title="s ? '主体：' + s.name : '主体详情'">
    <template #actions>
      <template v-if="s && provider && filed()">
        <el-button @click="go('/business/add-website/' + s.id)">新增网站</el-button>
        <el-button @click="go('/business/change-subject/' + s.id)">变更主体</el-button>
        <el-button @click="go({ path: '/business/cancel-subject', query: { number: s.subject_no || '' } })">注销主体</el-button>
      </template>
      <el-button @click="go('/records/subjects')">返回列表</el-button>
    </template>
    <el-empty v-if="missing" description="主体不存在或无权查看" />
    <el-skeleton v-else-if="!s" :rows="8" animated />
    <el-tabs v-else v-model="tab" @tab-change="onTab">
      <el-tab-pane label="主体信息" name="info">
        <el-descriptions :column="3" border class="detail-view">
          <el-descriptions-item label="主体备案号"><span data-test="subject-no">{{ s.subject_no || '—' }}</span></el-descriptions-item>
          <el-descriptions-item label="状态"><status-tag :status="s.status" :name="entityStatusName('subject', s.status)" /></el-descriptions-item>
          <el-descriptions-item label="备案方式">{{ filingMethodName(s.filing_method) }}</el-descriptions-item>
          <el-descriptions-item v-if="s.sponsor_username" label="主办者用户名">{{ s.sponsor_username }}</el-descriptions-item>
          <el-descriptions-item label="录入时间">{{ fmtTime(s.created_at) }}</el-descriptions-item>
          <el-descriptions-item label="审核通过">{{ fmtTime(s.approved_at) || '—' }}</el-descriptions-item>
          <el-descriptions-item v-if="s.last_return_reason" label="最近退回原因" :span="3">{{ s.last_return_reason }}</el-descriptions-item>
          <el-descriptions-item v-if="s.last_rejection_reason" label="最近驳回原因" :span="3">{{ s.last_rejection_reason }}</el-descriptions-item>
        </el-descriptions>
        <subject-panel :subject="s" />
      </el-tab-pane>
      <el-tab-pane :label="'网站（' + s.websites.length + '）'" name="websites">
        <el-table :data="s.websites" border empty-text="暂无网站">
          <el-table-column label="网站名称" min-width="160">
            <template #default="{ row }"><router-link :to="'/records/websites/' + row.id">{{ row.name }}</router-link></template>
          </el-table-column>
          <el-table-column label="网站备案号" min-width="180"><template #default="{ row }">{{ row.website_no || '—' }}</template></el-table-column>
          <el-table-column label="网站域名" min-width="160">
            <template #default="{ row }">{{ row.domains.map((d) => d.unicode || d.domain).join('、') }}</template>
          </el-table-column>
          <el-table-column label="状态" width="140">
            <template #default="{ row }"><status-tag :status="row.status" :name="entityStatusName('website', row.status)" /></template>
          </el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane label="申请记录" name="applications">
        <application-history :applications="s.applications" />
      </el-tab-pane>
      <el-tab-pane label="变更记录" name="history">
        <div v-loading="hist.loading">
          <audit-log :items="hist.items" />
          <el-pagination class="pager no-print" background layout="total, prev, pager, next" :total="hist.total"
                         :current-page="hist.page" :page-size="20" @current-change="loadHistory" />
        </div>
      </el-tab-pane>
    </el-tabs>
  </page-card>`,
};
