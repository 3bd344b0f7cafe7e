// 公共查询（备案信息）: no login. One condition — domain, website or subject number, sponsor name
// (exact) or an e-certificate's verification code — and the public fields of the matching filings.
import { api, ApiError } from '../lib/api.js';
import { fmtDate } from '../lib/format.js';

const FIELDS = [
  { value: 'domain', label: '网站域名' }, { value: 'website_no', label: '网站备案号' },
  { value: 'subject_no', label: '主体备案号' }, { value: 'sponsor_name', label: '主办单位名称' },
  { value: 'code', label: '证书验证码' },
];

export default {
  name: 'PublicLookupPage',
  setup() {
    const route = VueRouter.useRoute();
    const router = VueRouter.useRouter();
    const field = Vue.ref(FIELDS.some((x) => route.query[x.value]) ? FIELDS.find((x) => route.query[x.value]).value : 'domain');
    const value = Vue.ref(String(route.query[field.value] || ''));
    const out = Vue.ref(null);
    const refused = Vue.ref('');
    async function search() {
      refused.value = '';
      if (!value.value.trim()) { refused.value = '请输入查询内容'; return; }
      const query = { [field.value]: value.value.trim() };
      try {
        out.value = await api.get('/reporting/public/lookup', { query });
        router.replace({ query });
      } catch (e) {
        if (e instanceof ApiError && (e.status === 429 || e.status === 422)) refused.value = e.detail;
        else throw e;
      }
    }
    Vue.onMounted(() => { if (value.value) search(); });
    return { field, value, out, refused, search, FIELDS, fmtDate };
  },
  template: `
  <page-card title="公共查询（备案信息）">
    <el-form inline @submit.prevent="search" data-test="lookup-form">
      <el-form-item label="查询条件">
        <el-select v-model="field" style="width: 140px" data-test="lookup-field"><el-option v-for="x in FIELDS" :key="x.value" :label="x.label" :value="x.value" /></el-select>
      </el-form-item>
      <el-form-item><el-input v-model="value" clearable style="width: 260px" name="lookup-value" placeholder="精确匹配" /></el-form-item>
      <el-form-item><el-button type="primary" native-type="submit" data-test="lookup-submit">查询</el-button></el-form-item>
    </el-form>
    <el-alert v-if="refused" :title="refused" type="warning" :closable="false" show-icon data-test="lookup-refused" />
    <el-table v-if="out" :data="out.items" border stripe empty-text="未查询到备案信息" data-test="lookup-results">
      <el-table-column prop="website_no" label="网站备案号" min-width="190" />
      <el-table-column prop="sponsor_name" label="主办单位名称" min-width="180" />
      <el-table-column prop="nature_name" label="单位性质" width="100" />
      <el-table-column prop="website_name" label="网站名称" min-width="140" />
      <el-table-column label="网站域名" min-width="170"><template #default="{ row }">{{ row.domains.join('、') }}</template></el-table-column>
      <el-table-column label="审核通过日期" width="120"><template #default="{ row }">{{ fmtDate(row.approved_on) }}</template></el-table-column>
    </el-table>
  </page-card>`,
};
