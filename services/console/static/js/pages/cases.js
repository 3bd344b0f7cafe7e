// 1.3.4 核实提交 (provider: the filings waiting for verification) and 备案审核 (bureau: the province's
// applications with the bureau). One list, combinable filters kept in the URL; "核实" / "审核" opens
// the case (pages/case.js) with the whole application.
import { usePagedList } from '../lib/list.js';
import { fmtTime } from '../lib/format.js';
import { session } from '../lib/session.js';
import { RECORD_VIEWS } from '../lib/record-views.js';

export const STAGES = [
  { value: 'verification', label: '待核实' },
  { value: 'returned', label: '核实退回' },
  { value: 'bureau', label: '管局审核中' },
  { value: 'preapproval', label: '前置审批中' },
  { value: 'approved', label: '审核通过' },
  { value: 'rejected', label: '管局驳回' },
  { value: 'decided', label: '已审结（通过或驳回）' },
  { value: 'abandoned', label: '已放弃' },
  { value: 'all', label: '全部' },
];

export default {
  name: 'CasesPage',
  components: RECORD_VIEWS,
  setup() {
    const role = session.user ? session.user.role : 'provider';
    const provider = role === 'provider';
    const bureau = role === 'bureau';
    const list = usePagedList('/verification/cases', {
      stage: provider ? 'verification' : role === 'bureau' ? 'bureau' : 'all',
      type: '', name: '', domain: '', submitted_from: '', submitted_to: '', application_id: '',
      ...(provider ? {} : { provider_id: '' }),
    });
    const title = provider ? '核实提交' : bureau ? '备案审核' : '备案申请查询';
    function actionOf(row) {
      if (provider && row.status === 'PENDING_VERIFICATION') return '核实';
      if (bureau && ['SUBMITTED_TO_BUREAU', 'PREAPPROVAL_PENDING'].includes(row.status)) return '审核';
      return '查看';
    }
    const numbersOf = (row) => [row.subject_no, ...row.website_numbers.map((n) => n.website_no)].filter(Boolean);
    return { list, provider, bureau, title, STAGES, actionOf, numbersOf, fmtTime };
  },
  template: `
  <page-card :title="title">
    <list-filters :list="list" data-test="case-filters">
      <el-form-item label="阶段">
        <el-select v-model="list.filters.stage" style="width: 170px" data-test="filter-stage">
          <el-option v-for="s in STAGES" :key="s.value" :label="s.label" :value="s.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="申请类型">
        <code-select v-model="list.filters.type" table="filing_types" placeholder="全部" style="width: 150px" />
      </el-form-item>
      <el-form-item label="主办单位名称">
        <el-input v-model="list.filters.name" clearable placeholder="包含" style="width: 180px" name="name" />
      </el-form-item>
      <el-form-item label="网站域名">
        <el-input v-model="list.filters.domain" clearable placeholder="包含" style="width: 180px" name="domain" />
      </el-form-item>
      <el-form-item label="提交日期">
        <date-range v-model:from="list.filters.submitted_from" v-model:to="list.filters.submitted_to" />
      </el-form-item>
      <el-form-item v-if="!provider" label="接入服务提供者">
        <el-input v-model="list.filters.provider_id" clearable placeholder="标识" style="width: 150px" />
      </el-form-item>
      <el-form-item label="申请编号">
        <el-input v-model="list.filters.application_id" clearable style="width: 200px" />
      </el-form-item>
    </list-filters>
    <paged-table :list="list">
      <el-table-column label="主办单位名称" min-width="180">
        <template #default="{ row }">
          <router-link :to="'/cases/' + row.id">{{ row.subject_name }}</router-link>
        </template>
      </el-table-column>
      <el-table-column label="网站域名" min-width="160">
        <template #default="{ row }">{{ row.domains.join('、') || '—' }}</template>
      </el-table-column>
      <el-table-column prop="type_name" label="申请类型" width="100" />
      <el-table-column v-if="!provider" label="接入服务提供者" min-width="150">
        <template #default="{ row }"><span v-if="row.provider_id">{{ row.provider_name || row.provider_id }}</span>
          <el-tag v-else type="warning" data-test="self-filing">自主备案</el-tag></template>
      </el-table-column>
      <el-table-column v-if="!provider" prop="province_name" label="省份" width="90" />
      <el-table-column label="状态" width="150">
        <template #default="{ row }">
          <status-tag :status="row.status" :name="row.status_name" />
          <el-tag v-if="row.needs_preapproval" type="warning" effect="plain" size="small" class="tag-gap">涉及前置审批</el-tag>
        </template>
      </el-table-column>
      <el-table-column label="备案号" min-width="170">
        <template #default="{ row }">
          <div v-for="n in numbersOf(row)" :key="n">{{ n }}</div>
          <span v-if="!numbersOf(row).length">—</span>
        </template>
      </el-table-column>
      <el-table-column label="提交时间" width="150">
        <template #default="{ row }">{{ fmtTime(row.submitted_at) }}</template>
      </el-table-column>
      <el-table-column label="操作" width="90" fixed="right" class-name="no-print">
        <template #default="{ row }">
          <router-link :to="'/cases/' + row.id" :data-test="'case-action-' + row.application_id">{{ actionOf(row) }}</router-link>
        </template>
      </el-table-column>
    </paged-table>
  </page-card>`,
};
