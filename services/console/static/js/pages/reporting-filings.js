// 查询统计服务 → 网站备案信息查询 (1.7.2) and 网站备案信息组合查询 (1.7.3): numbered filings with
// combinable conditions (empty: all of this provider's, the bureau's province, everything for the admin);
// the combined query has every condition and exports the result to Excel (streamed by the server).
import { download } from '../lib/api.js';
import { usePagedList } from '../lib/list.js';
import { fmtDate } from '../lib/format.js';
import { session } from '../lib/session.js';

const STATUS = [
  { value: 'LIVE', label: '正常（含空壳网站）' }, { value: 'ACTIVE', label: '正常' },
  { value: 'NO_ACCESS', label: '空壳网站（无接入）' }, { value: 'CANCELLED', label: '已注销' }, { value: 'ALL', label: '全部' },
];

export default {
  name: 'ReportingFilingsPage',
  setup() {
    const combined = VueRouter.useRoute().path.endsWith('/combined');
    const list = usePagedList('/reporting/filings', {
      sponsor_name: '', website_name: '', domain: '', number: '', province: '', nature: '', cert_number: '',
      service_content: '', language: '', preapproval_type: '', access_method: '', ip: '', server_location: '',
      principal_name: '', status: 'LIVE', approved_from: '', approved_to: '',
    });
    const wide = session.user && session.user.role !== 'provider';
    function exportXlsx() {
      const query = Object.entries(list.filters).filter(([, v]) => v !== '' && v !== null && v !== undefined);
      const qs = new URLSearchParams(query).toString();
      return download('/reporting/filings/export' + (qs ? '?' + qs : ''), '备案信息.xlsx');
    }
    return { list, combined, wide, exportXlsx, STATUS, fmtDate };
  },
  template: `
  <page-card :title="combined ? '网站备案信息组合查询' : '网站备案信息查询'">
    <list-filters :list="list" data-test="filing-filters">
      <el-form-item label="主办单位名称"><el-input v-model="list.filters.sponsor_name" clearable placeholder="包含" style="width: 180px" name="sponsor_name" /></el-form-item>
      <el-form-item label="网站名称"><el-input v-model="list.filters.website_name" clearable placeholder="包含" style="width: 160px" name="website_name" /></el-form-item>
      <el-form-item label="网站域名"><el-input v-model="list.filters.domain" clearable style="width: 170px" name="domain" /></el-form-item>
      <el-form-item label="备案号"><el-input v-model="list.filters.number" clearable placeholder="主体或网站备案号" style="width: 200px" name="number" /></el-form-item>
      <template v-if="combined">
        <el-form-item v-if="wide" label="省份"><code-select v-model="list.filters.province" table="provinces" placeholder="全部" style="width: 130px" /></el-form-item>
        <el-form-item label="单位性质"><code-select v-model="list.filters.nature" table="unit_natures" placeholder="全部" style="width: 130px" /></el-form-item>
        <el-form-item label="证件号码"><el-input v-model="list.filters.cert_number" clearable style="width: 190px" /></el-form-item>
        <el-form-item label="服务内容"><code-select v-model="list.filters.service_content" table="service_content" placeholder="全部" style="width: 150px" /></el-form-item>
        <el-form-item label="网站语言"><code-select v-model="list.filters.language" table="languages" placeholder="全部" style="width: 130px" /></el-form-item>
        <el-form-item label="前置审批"><code-select v-model="list.filters.preapproval_type" table="preapproval_types" placeholder="全部" style="width: 140px" /></el-form-item>
        <el-form-item label="接入方式"><code-select v-model="list.filters.access_method" table="access_methods" placeholder="全部" style="width: 130px" /></el-form-item>
        <el-form-item label="IP 地址"><el-input v-model="list.filters.ip" clearable placeholder="落在备案 IP 段内" style="width: 170px" name="ip" /></el-form-item>
        <el-form-item label="服务器放置地"><code-select v-model="list.filters.server_location" table="provinces" placeholder="全部" style="width: 130px" /></el-form-item>
        <el-form-item label="负责人姓名"><el-input v-model="list.filters.principal_name" clearable style="width: 120px" /></el-form-item>
        <el-form-item label="状态">
          <el-select v-model="list.filters.status" style="width: 170px"><el-option v-for="s in STATUS" :key="s.value" :label="s.label" :value="s.value" /></el-select>
        </el-form-item>
      </template>
      <el-form-item label="审核通过日期">
        <date-range v-model:from="list.filters.approved_from" v-model:to="list.filters.approved_to" />
      </el-form-item>
      <template #actions>
        <el-button v-if="combined" @click="exportXlsx" data-test="export">导出 Excel</el-button>
      </template>
    </list-filters>
    <paged-table :list="list">
      <el-table-column label="网站备案号" min-width="190">
        <template #default="{ row }"><router-link :to="'/query/filings/' + row.website_id" :data-test="'detail-' + row.website_no">{{ row.website_no }}</router-link></template>
      </el-table-column>
      <el-table-column prop="sponsor_name" label="主办单位名称" min-width="180" />
      <el-table-column prop="nature_name" label="单位性质" width="100" />
      <el-table-column prop="website_name" label="网站名称" min-width="140" />
      <el-table-column label="网站域名" min-width="170"><template #default="{ row }">{{ row.domains.join('、') }}</template></el-table-column>
      <el-table-column prop="province_name" label="省份" width="100" />
      <el-table-column prop="filing_method_name" label="备案方式" width="100" />
      <el-table-column prop="status_name" label="状态" width="110" />
      <el-table-column label="审核通过日期" width="120"><template #default="{ row }">{{ fmtDate(row.approved_at) }}</template></el-table-column>
    </paged-table>
  </page-card>`,
};
