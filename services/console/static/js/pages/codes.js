// 1.10 公共查询: the code tables (public), each row by its code and Chinese name.
import { api } from '../lib/api.js';
import { codeName } from '../lib/codes.js';

const TARGETS = { SUBJECT: '主体', WEBSITE: '网站' };
/** Cell text: columns holding codes of another table are shown by their Chinese names. */
function show(column, value) {
  if (!value) return '';
  if (column === 'nature_code') return codeName('unit_natures', value);
  if (column === 'applies_to' || column === 'scope') return value.split(';').map((x) => TARGETS[x] || x).join('、');
  return value;
}

// Column titles of the code tables' other columns (shown only when present).
const COLUMN_TITLES = {
  code: '代码', name_zh: '中文名称', gb2260: '行政区划代码', short_zh: '简称', filing_abbr: '备案号简称',
  nature_code: '适用单位性质', applies_to: '适用对象', approving_authority_zh: '审批部门',
  typical_document_zh: '审批文件', scope: '材料所属',
};

export default {
  name: 'CodesPage',
  setup() {
    const route = VueRouter.useRoute();
    const router = VueRouter.useRouter();
    const tables = Vue.ref([]);
    const rows = Vue.ref([]);
    const title = Vue.ref('');
    const columns = Vue.ref([]);
    const q = Vue.ref(String(route.query.q || ''));
    const table = Vue.computed(() => String(route.query.table || (tables.value[0] && tables.value[0].table) || ''));
    async function load() {
      if (!table.value) return;
      const out = await api.get(`/filing/codes/${table.value}`, { query: { q: route.query.q }, auth: false });
      rows.value = out.items;
      title.value = out.title;
      const meta = tables.value.find((t) => t.table === table.value);
      columns.value = (meta ? meta.columns : ['code', 'name_zh']).filter((c) => COLUMN_TITLES[c]);
    }
    Vue.onMounted(async () => {
      tables.value = (await api.get('/filing/codes', { auth: false })).items;
      await load();
    });
    Vue.watch(() => route.query, load);
    function choose(t) { router.push({ query: { table: t } }); q.value = ''; }
    function search() { router.push({ query: { table: table.value, q: q.value || undefined } }); }
    return { tables, rows, title, columns, table, q, choose, search, COLUMN_TITLES, show };
  },
  template: `
  <page-card title="公共查询：代码表">
    <div class="codes-page">
      <el-menu :default-active="table" class="codes-menu no-print" @select="choose">
        <el-menu-item v-for="t in tables" :key="t.table" :index="t.table">{{ t.title }}（{{ t.count }}）</el-menu-item>
      </el-menu>
      <div class="codes-body">
        <h3>{{ title }}</h3>
        <el-form inline @submit.prevent="search" class="filters no-print">
          <el-form-item label="代码或名称"><el-input v-model="q" clearable name="q" /></el-form-item>
          <el-form-item><el-button type="primary" native-type="submit">查询</el-button></el-form-item>
        </el-form>
        <el-table :data="rows" border stripe empty-text="暂无数据">
          <el-table-column v-for="c in columns" :key="c" :label="COLUMN_TITLES[c]">
            <template #default="{ row }">{{ show(c, row[c]) }}</template>
          </el-table-column>
        </el-table>
      </div>
    </div>
  </page-card>`,
};
