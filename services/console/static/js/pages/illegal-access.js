// 黑名单查询 → 非法接入黑名单查询 (seed 1.9.2): the blacklisted filings this provider still serves
// (an active access record); combinable conditions, empty → all of them.
import { usePagedList } from '../lib/list.js';
import { fmtTime } from '../lib/format.js';
import { hasRole } from '../lib/session.js';

export default {
  name: 'IllegalAccessPage',
  setup() {
    const list = usePagedList('/detection/illegal-access', {
      website_no: '', sponsor_name: '', website_name: '', domain: '', kind: '', provider_id: '',
    }, { transform: (r) => ({ ...r, key: `${r.website_id}:${r.provider_id}:${r.blacklist_id}` }) });
    return { list, fmtTime, provider: hasRole('provider') };
  },
  template: `
  <page-card title="非法接入黑名单查询">
    <list-filters :list="list" data-test="illegal-filters">
      <el-form-item label="备案号"><el-input v-model="list.filters.website_no" clearable placeholder="包含" style="width: 190px" name="website_no" /></el-form-item>
      <el-form-item label="主办单位名称"><el-input v-model="list.filters.sponsor_name" clearable placeholder="包含" style="width: 170px" name="sponsor_name" /></el-form-item>
      <el-form-item label="网站名称"><el-input v-model="list.filters.website_name" clearable placeholder="包含" style="width: 150px" name="website_name" /></el-form-item>
      <el-form-item label="域名"><el-input v-model="list.filters.domain" clearable placeholder="包含" style="width: 170px" name="domain" /></el-form-item>
      <el-form-item label="列入类别">
        <el-select v-model="list.filters.kind" clearable placeholder="全部" style="width: 110px">
          <el-option label="主体" value="SUBJECT" /><el-option label="网站" value="WEBSITE" />
        </el-select>
      </el-form-item>
      <el-form-item v-if="!provider" label="接入服务提供者"><el-input v-model="list.filters.provider_id" clearable style="width: 150px" /></el-form-item>
    </list-filters>
    <paged-table :list="list" row-key="key">
      <el-table-column prop="website_no" label="网站备案号" min-width="190" />
      <el-table-column prop="sponsor_name" label="主办单位名称" min-width="170" />
      <el-table-column prop="website_name" label="网站名称" min-width="130" />
      <el-table-column label="域名" min-width="170"><template #default="{ row }">{{ row.domains.join('、') }}</template></el-table-column>
      <el-table-column label="接入IP" min-width="190"><template #default="{ row }">{{ row.ip_ranges.join('；') }}</template></el-table-column>
      <el-table-column v-if="!provider" prop="provider_id" label="接入服务提供者" min-width="120" />
      <el-table-column label="列入类别" width="90"><template #default="{ row }">{{ row.blacklist_kind === 'SUBJECT' ? '主体' : '网站' }}</template></el-table-column>
      <el-table-column prop="blacklist_reason" label="列入原因" min-width="150" />
      <el-table-column label="列入时间" width="150"><template #default="{ row }">{{ fmtTime(row.listed_at) }}</template></el-table-column>
    </paged-table>
  </page-card>`,
};
