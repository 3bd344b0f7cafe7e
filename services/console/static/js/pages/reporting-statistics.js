// 查询统计服务 → 网站备案信息统计 (seed 1.7.4): the cutoff is required; a grouping item and a measure
// (已备案网站数量 by default); each row shows the value at the cutoff, 同比 and 环比 with the change and
// rate ("—" for a zero base), a totals row, a bar chart beside the table (vendored ECharts) and Excel.
import { api, download } from '../lib/api.js';
import { useFieldErrors } from '../lib/form.js';

const GROUPS = [
  { value: 'province', label: '省份' }, { value: 'nature', label: '主办单位性质' }, { value: 'access_method', label: '接入方式' },
  { value: 'service_content', label: '网站服务内容' }, { value: 'month', label: '月份' },
];
let echartsLoading = null;
/** ECharts (1 MB) is loaded by this page only, the first time it is opened. */
function loadEcharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  echartsLoading = echartsLoading || new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/vendor/echarts.min.js';
    s.onload = () => resolve(window.echarts);
    s.onerror = () => reject(new Error('图表组件加载失败'));
    document.head.appendChild(s);
  });
  return echartsLoading;
}

export default {
  name: 'ReportingStatisticsPage',
  setup() {
    const route = VueRouter.useRoute();
    const router = VueRouter.useRouter();
    const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
    const q = Vue.reactive({ cutoff: today, group_by: 'province', measure: 'websites', period: 'month', province: '',
      nature: '', ...route.query });
    const out = Vue.ref(null);
    const chartEl = Vue.ref(null);
    const f = useFieldErrors();
    let chart = null;
    const query = () => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== '' && v !== null && v !== undefined));

    async function draw() {
      const echarts = await loadEcharts();
      await Vue.nextTick();
      if (!chartEl.value || !out.value) return;
      chart = chart || echarts.init(chartEl.value);
      const rows = out.value.rows;
      chart.setOption({
        tooltip: { trigger: 'axis' }, legend: { data: ['截止日', '同比基数', '环比基数'] },
        grid: { left: 40, right: 10, bottom: 60 },
        xAxis: { type: 'category', data: rows.map((r) => r.name), axisLabel: { rotate: rows.length > 8 ? 40 : 0 } },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          { name: '截止日', type: 'bar', data: rows.map((r) => r.value) },
          { name: '同比基数', type: 'bar', data: rows.map((r) => r.yoy_base) },
          { name: '环比基数', type: 'bar', data: rows.map((r) => r.pop_base) },
        ],
      }, true);
    }
    async function load() {
      const r = await f.run(() => api.get('/reporting/statistics', { query: query() }));
      if (!r) return;
      out.value = r;
      router.replace({ query: query() });
      await draw();
    }
    const exportXlsx = () => download('/reporting/statistics/export?' + new URLSearchParams(query()).toString(), '备案统计.xlsx');
    Vue.onMounted(load);
    Vue.onBeforeUnmount(() => chart && chart.dispose());
    return { q, out, f, load, exportXlsx, chartEl, GROUPS };
  },
  template: `
  <page-card title="网站备案信息统计">
    <el-form inline class="filters no-print" @submit.prevent="load" data-test="stats-filters">
      <el-form-item label="统计截止时间" required :error="f.err('cutoff')">
        <el-date-picker v-model="q.cutoff" type="date" value-format="YYYY-MM-DD" placeholder="必填" style="width: 150px" data-test="cutoff" />
      </el-form-item>
      <el-form-item label="统计分组项">
        <el-select v-model="q.group_by" style="width: 140px" data-test="group-by"><el-option v-for="g in GROUPS" :key="g.value" :label="g.label" :value="g.value" /></el-select>
      </el-form-item>
      <el-form-item label="统计指标">
        <el-select v-model="q.measure" style="width: 150px"><el-option label="已备案网站数量" value="websites" /><el-option label="已备案主体数量" value="subjects" /></el-select>
      </el-form-item>
      <el-form-item label="环比周期">
        <el-select v-model="q.period" style="width: 100px"><el-option label="月" value="month" /><el-option label="季度" value="quarter" /><el-option label="年" value="year" /></el-select>
      </el-form-item>
      <el-form-item label="省份"><code-select v-model="q.province" table="provinces" placeholder="全部" style="width: 130px" /></el-form-item>
      <el-form-item label="单位性质"><code-select v-model="q.nature" table="unit_natures" placeholder="全部" style="width: 130px" /></el-form-item>
      <el-form-item>
        <el-button type="primary" native-type="submit" data-test="stats-submit">统计</el-button>
        <el-button v-if="out" @click="exportXlsx" data-test="stats-export">导出 Excel</el-button>
      </el-form-item>
    </el-form>
    <form-errors :form="f" />
    <div v-if="out" class="stats-layout">
      <div class="stats-caption">{{ out.measure_name }}，截至 {{ out.cutoff }}；同比：{{ out.yoy_date }}，环比：{{ out.pop_date }}</div>
      <el-table :data="out.rows.concat([out.total])" border stripe empty-text="暂无数据" data-test="stats">
        <el-table-column prop="name" :label="GROUPS.find((g) => g.value === out.group_by).label" min-width="120" />
        <el-table-column prop="value" label="截止日数量" width="100" />
        <el-table-column label="同比" align="center">
          <el-table-column prop="yoy_base" label="基数" width="80" /><el-table-column prop="yoy_change" label="增减" width="80" />
          <el-table-column prop="yoy_pct_text" label="增减率" width="90" />
        </el-table-column>
        <el-table-column label="环比" align="center">
          <el-table-column prop="pop_base" label="基数" width="80" /><el-table-column prop="pop_change" label="增减" width="80" />
          <el-table-column prop="pop_pct_text" label="增减率" width="90" />
        </el-table-column>
      </el-table>
      <div ref="chartEl" class="stats-chart" data-test="stats-chart" style="height: 360px; margin-top: 16px"></div>
    </div>
  </page-card>`,
};
