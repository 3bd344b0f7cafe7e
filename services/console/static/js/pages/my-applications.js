// 我的备案申请 (sponsor): the sponsor's own applications — its 自主备案 and what providers filed for its
// subject (新增接入 …) — with the progress (审核中 / 前置审批中 / 已通过 / 已驳回), numbers and history.
import { api, toastSuccess } from '../lib/api.js';
import { confirmAction } from '../lib/components.js';
import { fmtTime } from '../lib/format.js';

const { ref, onMounted } = Vue;

const PROGRESS_TAG = { 已通过: 'success', 已驳回: 'danger', 已退回: 'warning', 前置审批中: 'warning' };

export default {
  name: 'MyApplicationsPage',
  setup() {
    const items = ref([]);
    const loaded = ref(false);
    async function load() {
      items.value = (await api.get('/filing/me/applications')).items;
      loaded.value = true;
    }
    onMounted(load);
    // a rejected 自主备案 holds its certificate and domains until abandoned; then the sponsor may file again
    async function abandon(row) {
      if (!(await confirmAction(`放弃后，“${row.subject_name}”的本次自主备案撤回，可以重新自主备案。确定放弃？`,
        '放弃自主备案', '放弃'))) return;
      await api.post(`/filing/me/applications/${row.id}/abandon`);
      toastSuccess('已放弃该自主备案');
      await load();
    }
    const tag = (p) => PROGRESS_TAG[p] || 'info';
    const method = (m) => (m === 'SELF' ? '自主备案' : '代为备案');
    return { items, loaded, load, abandon, tag, method, fmtTime };
  },
  template: `
  <page-card title="我的备案申请">
    <div class="no-print" style="margin-bottom: 12px">
      <router-link to="/self-filing"><el-button type="primary" data-test="to-self-filing">自主备案</el-button></router-link>
      <el-button @click="load">刷新</el-button>
    </div>
    <el-table :data="items" border :empty-text="loaded ? '暂无备案申请' : '加载中…'" data-test="my-applications" row-key="id">
      <el-table-column type="expand">
        <template #default="{ row }">
          <el-timeline class="history">
            <el-timeline-item v-for="(h, i) in row.history" :key="i" :timestamp="fmtTime(h.at)">
              {{ h.status_name }}<span v-if="h.note">：{{ h.note }}</span>
            </el-timeline-item>
          </el-timeline>
        </template>
      </el-table-column>
      <el-table-column prop="subject_name" label="主办单位名称" min-width="180" />
      <el-table-column label="主体备案号" min-width="170"><template #default="{ row }">{{ row.subject_no || '—' }}</template></el-table-column>
      <el-table-column prop="type_name" label="业务类型" width="110" />
      <el-table-column label="备案方式" width="100"><template #default="{ row }">{{ method(row.filing_method) }}</template></el-table-column>
      <el-table-column label="办理进度" width="110">
        <template #default="{ row }"><el-tag :type="tag(row.progress)" data-test="progress">{{ row.progress }}</el-tag></template>
      </el-table-column>
      <el-table-column prop="status_name" label="状态" width="120" />
      <el-table-column label="审核意见 / 驳回原因" min-width="160"><template #default="{ row }">{{ row.bureau_reason || '' }}</template></el-table-column>
      <el-table-column label="提交时间" width="170"><template #default="{ row }">{{ fmtTime(row.submitted_at) }}</template></el-table-column>
      <el-table-column label="操作" width="90" class-name="no-print">
        <template #default="{ row }">
          <el-button v-if="row.abandonable" text type="danger" @click="abandon(row)" data-test="abandon">放弃</el-button>
        </template>
      </el-table-column>
    </el-table>
  </page-card>`,
};
