// 未备案网站管理 → 未备案检测结果查询 (seed 1.8.1): combinable conditions kept in the URL; empty lists
// every unfiled site detected at this provider (the regulator: its province, across providers).
// The detection count opens the history; "处理" (providers) opens the same page at its handling form.
import { usePagedList } from '../lib/list.js';
import { fmtTime } from '../lib/format.js';
import { hasRole } from '../lib/session.js';

const { useRouter } = VueRouter;

export const HANDLING_STATUS = [
  { value: 'unhandled', label: '未处理' },
  { value: 'handled', label: '已处理' },
];
export const STATUS_NAMES = { UNHANDLED: '未处理', IN_PROGRESS: '处理中', HANDLED: '已处理' };
export const STATUS_TAGS = { UNHANDLED: 'danger', IN_PROGRESS: 'warning', HANDLED: 'success' };

export default {
  name: 'UnfiledPage',
  setup() {
    const list = usePagedList('/detection/unfiled', {
      domain: '', ip: '', province: '', date_from: '', date_to: '', handling_status: '', handling_code: '',
      filed_meanwhile: '', month: '', provider_id: '',
    });
    const router = useRouter();
    const provider = hasRole('provider');
    const open = (row, handle) => router.push({ path: `/unfiled/${row.id}`, query: handle ? { handle: '1' } : {} });
    return { list, provider, open, fmtTime, HANDLING_STATUS, STATUS_NAMES, STATUS_TAGS };
  },
  template: `
  <page-card title="未备案检测结果查询">
    <list-filters :list="list" data-test="unfiled-filters">
      <el-form-item label="域名">
        <el-input v-model="list.filters.domain" clearable placeholder="包含" style="width: 170px" name="domain" />
      </el-form-item>
      <el-form-item label="IP地址">
        <el-input v-model="list.filters.ip" clearable placeholder="前缀" style="width: 150px" name="ip" />
      </el-form-item>
      <el-form-item label="省份">
        <code-select v-model="list.filters.province" table="provinces" placeholder="全部" style="width: 140px" data-test="filter-province" />
      </el-form-item>
      <el-form-item label="检测日期">
        <date-range v-model:from="list.filters.date_from" v-model:to="list.filters.date_to" />
      </el-form-item>
      <el-form-item label="处理状态">
        <el-select v-model="list.filters.handling_status" clearable placeholder="全部" style="width: 120px" data-test="filter-handling">
          <el-option v-for="s in HANDLING_STATUS" :key="s.value" :label="s.label" :value="s.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="处理结果">
        <code-select v-model="list.filters.handling_code" table="detection_handling" placeholder="全部" style="width: 200px" />
      </el-form-item>
      <el-form-item label="检测后已备案">
        <el-select v-model="list.filters.filed_meanwhile" clearable placeholder="全部" style="width: 100px" data-test="filter-filed">
          <el-option label="是" value="true" /><el-option label="否" value="false" />
        </el-select>
      </el-form-item>
    </list-filters>
    <p v-if="list.filters.month" class="hint">检测月份：{{ list.filters.month }}</p>
    <paged-table :list="list">
      <el-table-column prop="domain" label="域名" min-width="200" />
      <el-table-column prop="ip" label="IP地址" min-width="130" />
      <el-table-column label="省份" width="100"><template #default="{ row }"><code-name table="provinces" :code="row.province" /></template></el-table-column>
      <el-table-column v-if="!provider" label="接入服务提供者" min-width="150">
        <template #default="{ row }">{{ row.provider_name || row.provider_id }}</template>
      </el-table-column>
      <el-table-column label="首次检测时间" width="150"><template #default="{ row }">{{ fmtTime(row.first_seen) }}</template></el-table-column>
      <el-table-column label="最近检测时间" width="150"><template #default="{ row }">{{ fmtTime(row.last_seen) }}</template></el-table-column>
      <el-table-column label="检测次数" width="90">
        <template #default="{ row }">
          <el-button link type="primary" @click="open(row, false)" :data-test="'count-' + row.domain">{{ row.sightings }}</el-button>
        </template>
      </el-table-column>
      <el-table-column label="处理状态" width="100">
        <template #default="{ row }"><el-tag :type="STATUS_TAGS[row.status]">{{ STATUS_NAMES[row.status] }}</el-tag></template>
      </el-table-column>
      <el-table-column label="处理结果" min-width="180">
        <template #default="{ row }">
          {{ row.handling_name || '' }}
          <el-tag v-if="row.filed_meanwhile" type="success" size="small">检测后已备案 {{ row.filed_no }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column v-if="provider" label="操作" width="80" class-name="no-print">
        <template #default="{ row }"><el-button link type="primary" @click="open(row, true)" :data-test="'handle-' + row.domain">处理</el-button></template>
      </el-table-column>
    </paged-table>
  </page-card>`,
};
