// 未备案网站管理 → 未备案检测结果统计 (seed 1.8.2): conditions and a grouping item (province by
// default; handling result; detection month) → 统计; each row's 浏览 opens its detections.
import { api } from '../lib/api.js';

const { reactive, ref, onMounted } = Vue;
const { useRoute, useRouter } = VueRouter;

const GROUPS = [
  { value: 'province', label: '按省份' },
  { value: 'handling', label: '按处理结果' },
  { value: 'month', label: '按检测月份' },
];

export default {
  name: 'UnfiledStatsPage',
  setup() {
    const route = useRoute();
    const router = useRouter();
    const q = reactive({ group_by: 'province', date_from: '', date_to: '', handling_status: '', ...route.query });
    const out = ref(null);
    const loading = ref(false);
    async function load() {
      loading.value = true;
      try {
        const query = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== '' && v !== null && v !== undefined));
        out.value = await api.get('/detection/statistics', { query });
        router.replace({ query });
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);
    const browse = (row) => router.push({ path: '/unfiled', query: row.query });
    const rate = (r) => (r.handling_rate === null ? '—' : (r.handling_rate * 100).toFixed(1) + '%');
    return { q, out, loading, load, browse, rate, GROUPS };
  },
  template: `
  <page-card title="未备案检测结果统计">
    <el-form inline class="filters no-print" @submit.prevent="load" data-test="stats-filters">
      <el-form-item label="统计分组">
        <el-select v-model="q.group_by" style="width: 140px" data-test="group-by">
          <el-option v-for="g in GROUPS" :key="g.value" :label="g.label" :value="g.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="检测日期">
        <date-range v-model:from="q.date_from" v-model:to="q.date_to" />
      </el-form-item>
      <el-form-item label="处理状态">
        <el-select v-model="q.handling_status" clearable placeholder="全部" style="width: 120px">
          <el-option label="未处理" value="unhandled" /><el-option label="已处理" value="handled" />
        </el-select>
      </el-form-item>
      <el-form-item><el-button type="primary" native-type="submit" data-test="stats-submit">统计</el-button></el-form-item>
    </el-form>
    <el-table v-if="out" :data="out.rows.concat([out.total])" v-loading="loading" border stripe empty-text="暂无数据" data-test="stats">
      <el-table-column prop="label" :label="GROUPS.find((g) => g.value === out.group_by).label.slice(1)" min-width="140" />
      <el-table-column prop="domains" label="检测到的网站数" width="130" />
      <el-table-column prop="detections" label="检测次数" width="110" />
      <el-table-column prop="handled" label="已处理" width="100" />
      <el-table-column prop="unhandled" label="未处理" width="100" />
      <el-table-column label="处理率" width="100"><template #default="{ row }">{{ rate(row) }}</template></el-table-column>
      <el-table-column label="操作" width="90" class-name="no-print">
        <template #default="{ row }"><el-button v-if="row.key !== null" link type="primary" @click="browse(row)" :data-test="'browse-' + row.key">浏览</el-button></template>
      </el-table-column>
    </el-table>
  </page-card>`,
};
