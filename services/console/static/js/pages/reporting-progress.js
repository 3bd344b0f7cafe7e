// 查询统计服务 → 网站备案进度查询 (seed 1.7.1): combinable conditions (empty: every application of this
// provider, the bureau's province, everything for the admin); each application shows one of the seed's
// three progress states (审核中 / 前置审批中 / 已通过、已驳回 with the reason) and, on 历史, its history.
import { api } from '../lib/api.js';
import { usePagedList } from '../lib/list.js';
import { fmtTime } from '../lib/format.js';

const PROGRESS = [
  { value: 'REVIEWING', label: '审核中' }, { value: 'PREAPPROVAL', label: '前置审批中' },
  { value: 'APPROVED', label: '已通过' }, { value: 'REJECTED', label: '已驳回' }, { value: 'ABANDONED', label: '已放弃' },
];
const TAGS = { REVIEWING: 'primary', PREAPPROVAL: 'warning', APPROVED: 'success', REJECTED: 'danger', ABANDONED: 'info' };

export default {
  name: 'ReportingProgressPage',
  setup() {
    const list = usePagedList('/reporting/progress', {
      sponsor_name: '', domain: '', type: '', progress: '', submitted_from: '', submitted_to: '',
    });
    const history = Vue.ref(null);
    async function showHistory(row) {
      history.value = await api.get(`/reporting/progress/${row.application_id}`);
    }
    return { list, history, showHistory, PROGRESS, TAGS, fmtTime };
  },
  template: `
  <page-card title="网站备案进度查询">
    <list-filters :list="list" data-test="progress-filters">
      <el-form-item label="主办单位名称"><el-input v-model="list.filters.sponsor_name" clearable placeholder="包含" style="width: 180px" name="sponsor_name" /></el-form-item>
      <el-form-item label="网站域名"><el-input v-model="list.filters.domain" clearable style="width: 170px" name="domain" /></el-form-item>
      <el-form-item label="申请类型"><code-select v-model="list.filters.type" table="filing_types" placeholder="全部" style="width: 140px" /></el-form-item>
      <el-form-item label="备案进度">
        <el-select v-model="list.filters.progress" clearable placeholder="全部" style="width: 130px" data-test="filter-progress">
          <el-option v-for="p in PROGRESS" :key="p.value" :label="p.label" :value="p.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="提交日期">
        <date-range v-model:from="list.filters.submitted_from" v-model:to="list.filters.submitted_to" />
      </el-form-item>
    </list-filters>
    <paged-table :list="list">
      <el-table-column prop="sponsor_name" label="主办单位名称" min-width="180" />
      <el-table-column label="网站域名" min-width="170"><template #default="{ row }">{{ row.domains.join('、') || '—' }}</template></el-table-column>
      <el-table-column prop="type_name" label="申请类型" width="100" />
      <el-table-column label="提交时间" width="160"><template #default="{ row }">{{ fmtTime(row.submitted_at) }}</template></el-table-column>
      <el-table-column label="备案进度" width="110">
        <template #default="{ row }"><el-tag :type="TAGS[row.progress]" :data-test="'progress-' + row.application_id">{{ row.progress_name }}</el-tag></template>
      </el-table-column>
      <el-table-column label="状态时间" width="160"><template #default="{ row }">{{ fmtTime(row.status_at) }}</template></el-table-column>
      <el-table-column label="驳回原因 / 退回意见" min-width="160"><template #default="{ row }">{{ row.reason || '—' }}</template></el-table-column>
      <el-table-column label="操作" width="80" class-name="no-print">
        <template #default="{ row }"><el-button link type="primary" @click="showHistory(row)" :data-test="'history-' + row.application_id">历史</el-button></template>
      </el-table-column>
    </paged-table>
    <el-dialog :model-value="!!history" @update:model-value="history = null" title="申请状态历史" width="640px" data-test="history">
      <el-timeline v-if="history">
        <el-timeline-item v-for="(h, i) in history.history" :key="i" :timestamp="fmtTime(h.at)">
          {{ h.status_name }}（{{ h.progress_name }}）<span v-if="h.note">：{{ h.note }}</span>
        </el-timeline-item>
      </el-timeline>
    </el-dialog>
  </page-card>`,
};
