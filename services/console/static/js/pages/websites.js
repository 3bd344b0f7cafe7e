// 网站查询: the websites this user may see, combinable filters kept in the URL, paged on the server.
import { usePagedList } from '../lib/list.js';
import { fmtDate } from '../lib/format.js';
import { session } from '../lib/session.js';
import { codeName } from '../lib/codes.js';
import { ENTITY_STATUS_OPTIONS, entityStatusName, FILING_METHODS, filingMethodName, RECORD_VIEWS } from '../lib/record-views.js';

export default {
  name: 'WebsitesPage',
  components: RECORD_VIEWS,
  setup() {
    const list = usePagedList('/filing/websites', {
      name: '', domain: '', filing_no: '', subject_name: '', status: '', filing_method: '', needs_preapproval: '',
      province: '', approved_from: '', approved_to: '',
    });
    const wide = session.user && session.user.role === 'admin';
    return { list, wide, STATUS: ENTITY_STATUS_OPTIONS('website'), FILING_METHODS, entityStatusName,
      filingMethodName, codeName, fmtDate };
  },
  template: `
  <page-card title="网站查询">
    <list-filters :list="list" data-test="website-filters">
      <el-form-item label="网站名称">
        <el-input v-model="list.filters.name" clearable placeholder="包含" style="width: 170px" name="name" />
      </el-form-item>
      <el-form-item label="网站域名">
        <el-input v-model="list.filters.domain" clearable placeholder="包含" style="width: 170px" name="domain" />
      </el-form-item>
      <el-form-item label="备案号">
        <el-input v-model="list.filters.filing_no" clearable placeholder="主体或网站备案号" style="width: 190px" name="filing_no" />
      </el-form-item>
      <el-form-item label="主办单位名称">
        <el-input v-model="list.filters.subject_name" clearable placeholder="包含" style="width: 170px" />
      </el-form-item>
      <el-form-item label="网站状态">
        <el-select v-model="list.filters.status" clearable placeholder="全部" style="width: 160px" data-test="filter-status">
          <el-option v-for="s in STATUS" :key="s.value" :label="s.label" :value="s.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="备案方式">
        <el-select v-model="list.filters.filing_method" clearable placeholder="全部" style="width: 120px">
          <el-option v-for="m in FILING_METHODS" :key="m.value" :label="m.label" :value="m.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="涉及前置审批">
        <el-select v-model="list.filters.needs_preapproval" clearable placeholder="全部" style="width: 100px">
          <el-option label="是" value="true" /><el-option label="否" value="false" />
        </el-select>
      </el-form-item>
      <el-form-item v-if="wide" label="省份">
        <code-select v-model="list.filters.province" table="provinces" placeholder="全部" style="width: 140px" />
      </el-form-item>
      <el-form-item label="审核通过日期">
        <date-range v-model:from="list.filters.approved_from" v-model:to="list.filters.approved_to" />
      </el-form-item>
    </list-filters>
    <paged-table :list="list">
      <el-table-column label="网站名称" min-width="160">
        <template #default="{ row }"><router-link :to="'/records/websites/' + row.id">{{ row.name }}</router-link></template>
      </el-table-column>
      <el-table-column label="网站备案号" min-width="180">
        <template #default="{ row }">{{ row.website_no || '—' }}</template>
      </el-table-column>
      <el-table-column label="网站域名" min-width="160">
        <template #default="{ row }">{{ row.domains.join('、') }}</template>
      </el-table-column>
      <el-table-column label="主办单位名称" min-width="170">
        <template #default="{ row }"><router-link :to="'/records/subjects/' + row.subject_id">{{ row.subject_name }}</router-link></template>
      </el-table-column>
      <el-table-column label="备案方式" width="90">
        <template #default="{ row }">{{ filingMethodName(row.filing_method) }}</template>
      </el-table-column>
      <el-table-column label="状态" width="140">
        <template #default="{ row }"><status-tag :status="row.status" :name="entityStatusName('website', row.status)" /></template>
      </el-table-column>
      <el-table-column label="最近申请" min-width="170">
        <template #default="{ row }">
          <span v-if="row.application">{{ codeName('filing_types', row.application.type) }}：{{ row.application.status_name }}</span>
          <span v-else>—</span>
        </template>
      </el-table-column>
      <el-table-column label="审核通过" width="110">
        <template #default="{ row }">{{ fmtDate(row.approved_at) || '—' }}</template>
      </el-table-column>
    </paged-table>
  </page-card>`,
};
