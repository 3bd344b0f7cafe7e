// 备案业务管理 → 电子证书下载 (seed 1.5.1): combinable conditions; with none, every numbered filing this
// provider gives access to; "备案证书下载" saves the website's PDF certificate.
import { download } from '../lib/api.js';
import { usePagedList } from '../lib/list.js';
import { fmtDate } from '../lib/format.js';

export default {
  name: 'ReportingCertificatesPage',
  setup() {
    const list = usePagedList('/reporting/certificates', { sponsor_name: '', website_name: '', domain: '', number: '' });
    const save = (row) => download(row.certificate_url.replace(/^\/api/, ''), row.website_no + '.pdf');
    return { list, save, fmtDate };
  },
  template: `
  <page-card title="电子证书下载">
    <list-filters :list="list" data-test="cert-filters">
      <el-form-item label="主办单位名称"><el-input v-model="list.filters.sponsor_name" clearable placeholder="包含" style="width: 180px" name="sponsor_name" /></el-form-item>
      <el-form-item label="网站名称"><el-input v-model="list.filters.website_name" clearable placeholder="包含" style="width: 160px" /></el-form-item>
      <el-form-item label="网站域名"><el-input v-model="list.filters.domain" clearable style="width: 170px" /></el-form-item>
      <el-form-item label="备案号"><el-input v-model="list.filters.number" clearable placeholder="主体或网站备案号" style="width: 200px" /></el-form-item>
    </list-filters>
    <paged-table :list="list">
      <el-table-column prop="sponsor_name" label="主办单位名称" min-width="180" />
      <el-table-column prop="website_no" label="备案/许可证号" min-width="190" />
      <el-table-column prop="website_name" label="网站名称" min-width="140" />
      <el-table-column label="首页网址" min-width="170"><template #default="{ row }">{{ row.home_urls.join('、') || '—' }}</template></el-table-column>
      <el-table-column prop="filing_method_name" label="备案方式" width="100" />
      <el-table-column label="审核通过日期" width="120"><template #default="{ row }">{{ fmtDate(row.approved_at) }}</template></el-table-column>
      <el-table-column label="操作" width="120" class-name="no-print">
        <template #default="{ row }"><el-button link type="primary" @click="save(row)" :data-test="'cert-' + row.website_no">备案证书下载</el-button></template>
      </el-table-column>
    </paged-table>
  </page-card>`,
};
