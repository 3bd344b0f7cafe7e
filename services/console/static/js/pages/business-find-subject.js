// 1.4.1 新增网站 / 1.4.3 "find a subject": filed subjects of every provider, found by an identifying
// condition (subject or website number, certificate number, sponsor name, domain). The answer holds only
// public fields plus 备案方式 and whether this provider already serves the subject; "新增网站" and "查看全部"
// of a subject it does not serve first ask for the sponsor's username and password (权限验证).
import { api, ApiError } from '../lib/api.js';
import { useFieldErrors } from '../lib/form.js';
import { grantSubject } from '../lib/sponsor-grant.js';
import { FILING_FORMS } from '../lib/filing-forms.js';
import { entityStatusName, filingMethodName, RECORD_VIEWS } from '../lib/record-views.js';

const { ref, reactive, computed, onMounted } = Vue;
const { useRoute, useRouter } = VueRouter;

const FILTERS = { number: '', cert_number: '', sponsor_name: '', domain: '' };
const PAGE_SIZE = 10;

export default {
  name: 'FindSubjectPage',
  components: { ...RECORD_VIEWS, ...FILING_FORMS },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const filters = reactive({ ...FILTERS });
    const f = useFieldErrors(); // the search's errors
    const found = ref(null); // SearchOut
    const loading = ref(false);
    // the answer (at most 20 subjects) shown a page at a time, like the other lists
    const page = ref(1);
    const list = {
      rows: computed(() => (found.value ? found.value.items.slice((page.value - 1) * PAGE_SIZE, page.value * PAGE_SIZE) : [])),
      total: computed(() => (found.value ? found.value.items.length : 0)),
      page, size: ref(PAGE_SIZE), loading,
      setPage(n) { page.value = n; },
      setSize() {},
      search: () => search(),
      reset: () => reset(),
    };

    async function load() {
      const query = Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v));
      loading.value = true;
      try {
        found.value = await f.run(() => api.get('/filing/filed-subjects', { query }));
        page.value = 1;
      } finally {
        loading.value = false;
      }
    }
    function search() {
      const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v.trim()).map(([k, v]) => [k, v.trim()]));
      router.replace({ query }); // the conditions stay in the URL: a reload repeats the search
      return load();
    }
    function reset() {
      Object.assign(filters, FILTERS);
      found.value = null;
      f.clear();
      router.replace({ query: {} });
    }
    onMounted(() => {
      for (const k of Object.keys(FILTERS)) if (typeof route.query[k] === 'string') filters[k] = route.query[k];
      if (Object.keys(FILTERS).some((k) => filters[k])) load();
    });

    // 权限验证 in a dialog, then on to what was asked for
    const auth = reactive({ row: null, action: '', sponsor: { username: '', password: '' }, busy: false });
    const af = useFieldErrors();
    const viewed = ref(null); // the whole subject, after the check
    function ask(row, action) {
      af.clear();
      Object.assign(auth, { row, action, sponsor: { username: '', password: '' } });
    }
    function addWebsite(row) {
      if (row.served_by_me) router.push(`/business/add-website/${row.id}`); // already its own: no check here
      else ask(row, 'add');
    }
    function viewAll(row) {
      if (row.served_by_me) router.push(`/records/subjects/${row.id}`);
      else ask(row, 'view');
    }
    async function verify() {
      af.clear();
      auth.busy = true;
      try {
        const subject = await api.post(`/filing/filed-subjects/${auth.row.id}/view`, { sponsor: auth.sponsor });
        const { row, action } = auth;
        auth.row = null;
        if (action === 'add') {
          grantSubject(subject, auth.sponsor);
          router.push(`/business/add-website/${row.id}`);
        } else {
          viewed.value = subject;
        }
      } catch (e) {
        // wrong credentials (403), a locked sponsor account (423), empty fields (422): shown in the dialog
        if (!(e instanceof ApiError) || ![403, 422, 423].includes(e.status)) throw e;
        af.set(e.errors.length ? e.errors : [{ field: 'sponsor', message: e.detail }], e.detail);
      } finally {
        auth.busy = false;
      }
    }
    return { filters, f, found, list, auth, af, viewed, addWebsite, viewAll, verify,
      filingMethodName, entityStatusName };
  },
  template: `
  <page-card title="查找已备案主体">
    <el-alert type="info" :closable="false" show-icon class="form-errors no-print"
              title="查找所有接入服务提供者的已备案主体（含自主备案），以便新增网站或办理变更。须按备案号、证件号码、主办单位名称或网站域名查找；列表仅显示公开信息，查看全部或为本单位未接入的主体新增网站须经主办者权限验证。" />
    <list-filters :list="list" data-test="find-filters">
      <el-form-item label="备案号" :error="f.err('number')">
        <el-input v-model="filters.number" clearable placeholder="主体或网站备案号" style="width: 210px" name="number" />
      </el-form-item>
      <el-form-item label="证件号码" :error="f.err('cert_number')">
        <el-input v-model="filters.cert_number" clearable placeholder="主办单位证件号码" style="width: 200px" name="cert_number" />
      </el-form-item>
      <el-form-item label="主办单位名称" :error="f.err('sponsor_name')">
        <el-input v-model="filters.sponsor_name" clearable placeholder="包含，至少 2 个字" style="width: 190px" name="sponsor_name" />
      </el-form-item>
      <el-form-item label="网站域名" :error="f.err('domain')">
        <el-input v-model="filters.domain" clearable placeholder="如 example.com" style="width: 180px" name="domain" />
      </el-form-item>
    </list-filters>
    <form-errors :form="f" />
    <el-alert v-if="found && found.truncated" type="warning" :closable="false" show-icon class="form-errors"
              title="符合条件的主体较多，仅显示前 20 个，请补充查询条件。" />
    <paged-table :list="list">
      <el-table-column prop="name" label="主办单位名称" min-width="170" />
      <el-table-column label="备案/许可证号" min-width="160"><template #default="{ row }">{{ row.subject_no }}</template></el-table-column>
      <el-table-column label="网站（网站备案号：域名）" min-width="260">
        <template #default="{ row }">
          <div v-for="w in row.websites" :key="w.website_no">{{ w.name }}（{{ w.website_no }}）：{{ w.domains.join('、') }}</div>
          <span v-if="!row.websites.length">—</span>
        </template>
      </el-table-column>
      <el-table-column prop="nature_name" label="性质" width="80" />
      <el-table-column prop="province_name" label="省份" width="90" />
      <el-table-column label="备案方式" width="90"><template #default="{ row }">{{ row.filing_method_name }}</template></el-table-column>
      <el-table-column label="本单位接入" width="96">
        <template #default="{ row }"><el-tag :type="row.served_by_me ? 'success' : 'info'" disable-transitions>{{ row.served_by_me ? '已接入' : '未接入' }}</el-tag></template>
      </el-table-column>
      <el-table-column label="操作" width="150" fixed="right" class-name="no-print">
        <template #default="{ row }"><div class="row-actions">
          <el-button link type="primary" @click="addWebsite(row)" data-test="find-add-website">新增网站</el-button>
          <el-button link type="primary" @click="viewAll(row)" data-test="find-view">查看全部</el-button>
        </div></template>
      </el-table-column>
    </paged-table>

    <el-dialog :model-value="!!auth.row" @update:model-value="(v) => { if (!v) auth.row = null; }" width="min(640px, 95vw)"
               :title="auth.row ? (auth.action === 'add' ? '新增网站' : '查看全部') + '：' + auth.row.name : ''" data-test="sponsor-dialog">
      <el-form v-if="auth.row" label-width="110px" @submit.prevent="verify">
        <sponsor-fields :model="auth.sponsor" :f="af" />
        <form-errors :form="af" />
        <div class="dialog-actions">
          <el-button @click="auth.row = null">取消</el-button>
          <el-button type="primary" native-type="submit" :loading="auth.busy" data-test="sponsor-verify">验证并继续</el-button>
        </div>
      </el-form>
    </el-dialog>

    <el-dialog :model-value="!!viewed" @update:model-value="(v) => { if (!v) viewed = null; }" width="min(1100px, 96vw)"
               :title="viewed ? '主体全部信息：' + viewed.name : ''" data-test="subject-view">
      <template v-if="viewed">
        <detail-view :items="[
          { label: '主体备案号', value: viewed.subject_no },
          { label: '状态', value: entityStatusName('subject', viewed.status) },
          { label: '备案方式', value: filingMethodName(viewed.filing_method) },
          { label: '主办者用户名', value: viewed.sponsor_username },
        ]" />
        <subject-panel :subject="viewed" />
        <template v-for="(w, i) in viewed.websites" :key="w.id">
          <website-panel :w="w" :title="'网站' + (i + 1) + '：' + w.name + (w.website_no ? '（' + w.website_no + '）' : '')" />
          <access-panel v-for="a in w.accesses" :key="a.id" :a="a" title="接入信息" />
        </template>
      </template>
    </el-dialog>
  </page-card>`,
};
