// A website's detail page: number, status, data, principal, the access records, its applications
// with their status history, and the change log of the website and its accesses. Providers get the
// business actions on their own access (变更网站, 变更接入, 取消接入, 注销网站).
import { api, ApiError } from '../lib/api.js';
import { fmtTime } from '../lib/format.js';
import { codeNames } from '../lib/codes.js';
import { hasRole, session } from '../lib/session.js';
import { entityStatusName, filingMethodName, RECORD_VIEWS } from '../lib/record-views.js';

const { ref, computed, onMounted } = Vue;
const { useRoute, useRouter } = VueRouter;

export default {
  name: 'WebsitePage',
  components: RECORD_VIEWS,
  setup() {
    const route = useRoute();
    const router = useRouter();
    const id = route.params.id;
    const w = ref(null);
    const missing = ref(false);
    const history = ref(null);
    const tab = ref(route.query.tab || 'info');
    const provider = hasRole('provider');

    async function load() {
      try {
        w.value = await api.get(`/filing/websites/${id}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) missing.value = true;
        else throw e;
      }
    }
    // the subject's log, narrowed to this website, its accesses and its applications
    async function loadHistory() {
      const out = await api.get(`/filing/subjects/${w.value.subject.id}/history`, { query: { page_size: 200 } });
      const mine = new Set([w.value.id, ...w.value.accesses.map((a) => a.id), ...w.value.applications.map((a) => a.id)]);
      history.value = out.items.filter((i) => mine.has(i.entity_id));
    }
    function onTab(name) {
      router.replace({ query: name === 'info' ? {} : { tab: name } });
      if (name === 'history' && !history.value) loadHistory();
    }
    onMounted(async () => {
      await load();
      if (w.value && tab.value === 'history') loadHistory();
    });
    const myAccess = computed(() => w.value && session.user
      && w.value.accesses.find((a) => a.provider_id === session.user.provider_id && a.status === 'ACTIVE'));
    const live = computed(() => w.value && ['ACTIVE', 'NO_ACCESS'].includes(w.value.status));
    const go = (to) => router.push(to);
    return { w, missing, history, tab, provider, myAccess, live, onTab, go, entityStatusName, filingMethodName,
      fmtTime, codeNames };
  },
  template: `
  <page-card :title="w ? '网站：' + w.name : '网站详情'">
    <template #actions>
      <template v-if="w && provider && live">
        <el-button v-if="myAccess" @click="go('/business/change-website/' + w.id)">变更网站</el-button>
        <el-button v-if="myAccess" @click="go('/business/change-access/' + w.id)">变更接入</el-button>
        <el-button v-if="w.website_no" @click="go({ path: '/business/cancel-website', query: { number: w.website_no } })">注销网站</el-button>
      </template>
      <el-button @click="go('/records/websites')">返回列表</el-button>
    </template>
    <el-empty v-if="missing" description="网站不存在或无权查看" />
    <el-skeleton v-else-if="!w" :rows="8" animated />
    <el-tabs v-else v-model="tab" @tab-change="onTab">
      <el-tab-pane label="网站信息" name="info">
        <el-descriptions :column="3" border class="detail-view">
          <el-descriptions-item label="网站备案号"><strong data-test="website-no">{{ w.website_no || '尚未发放' }}</strong></el-descriptions-item>
          <el-descriptions-item label="状态"><status-tag :status="w.status" :name="entityStatusName('website', w.status)" data-test="website-status" /></el-descriptions-item>
          <el-descriptions-item label="审核通过">{{ fmtTime(w.approved_at) || '—' }}</el-descriptions-item>
          <el-descriptions-item label="主办单位">
            <router-link :to="'/records/subjects/' + w.subject.id">{{ w.subject.name }}</router-link>
          </el-descriptions-item>
          <el-descriptions-item label="主体备案号">{{ w.subject.subject_no || '—' }}</el-descriptions-item>
          <el-descriptions-item label="备案方式">{{ filingMethodName(w.subject.filing_method) }}</el-descriptions-item>
        </el-descriptions>
        <website-panel :w="w" title="网站信息" />
      </el-tab-pane>
      <el-tab-pane :label="'接入信息（' + w.accesses.length + '）'" name="accesses">
        <el-table :data="w.accesses" border empty-text="暂无接入">
          <el-table-column label="接入服务提供者" min-width="140">
            <template #default="{ row }">{{ row.provider_name || row.provider_id }}</template>
          </el-table-column>
          <el-table-column label="接入方式" min-width="120"><template #default="{ row }">{{ codeNames('access_methods', row.access_methods) }}</template></el-table-column>
          <el-table-column label="网站IP地址" min-width="200"><template #default="{ row }">{{ row.ip_ranges.join('；') }}</template></el-table-column>
          <el-table-column label="服务器放置地" min-width="110"><template #default="{ row }">{{ codeNames('provinces', row.server_locations) }}</template></el-table-column>
          <el-table-column label="状态" width="110">
            <template #default="{ row }"><status-tag :status="row.status" :name="entityStatusName('access', row.status)" /></template>
          </el-table-column>
          <el-table-column label="接入时间" width="150"><template #default="{ row }">{{ fmtTime(row.created_at) }}</template></el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane label="申请记录" name="applications">
        <application-history :applications="w.applications" />
      </el-tab-pane>
      <el-tab-pane label="变更记录" name="history">
        <audit-log v-if="history" :items="history" />
        <el-skeleton v-else :rows="4" animated />
      </el-tab-pane>
    </el-tabs>
  </page-card>`,
};
