// 黑名单查询 → 备案信息黑名单查询 (seed 1.9.1): exactly one condition, sponsor name or domain; an empty
// value lists every blacklisted subject (or website). 详细 opens an entry. The regulator and the admin
// also list (列入黑名单) here and remove on the detail page.
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';
import { hasRole } from '../lib/session.js';

const { reactive, ref, watch, onMounted } = Vue;
const { useRoute, useRouter } = VueRouter;

const blank = () => ({ kind: 'SUBJECT', sponsor_name: '', cert_type: '', cert_number: '', website_name: '', domains: '', reason: '' });

export default {
  name: 'BlacklistPage',
  setup() {
    const route = useRoute();
    const router = useRouter();
    const q = reactive({ by: route.query.by === 'domain' ? 'domain' : 'sponsor_name', value: route.query.value || '' });
    const rows = ref([]);
    const total = ref(0);
    const page = ref(parseInt(route.query.page, 10) || 1);
    const loading = ref(false);
    const maintainer = hasRole('bureau', 'admin');
    async function load() {
      loading.value = true;
      try {
        // the condition is sent even when empty (an empty value lists every entry of its kind); the api
        // helper leaves empty values out, so the query string is built here
        const qs = new URLSearchParams({ [q.by]: q.value, page: String(page.value), page_size: '20' });
        const out = await api.get(`/detection/blacklist?${qs}`);
        rows.value = out.items;
        total.value = out.total;
      } finally {
        loading.value = false;
      }
    }
    function search(p = 1) {
      page.value = p;
      router.push({ query: { by: q.by, value: q.value, ...(p > 1 ? { page: String(p) } : {}) } });
    }
    watch(() => route.query, (nq) => {
      if (route.path !== '/blacklist') return;
      q.by = nq.by === 'domain' ? 'domain' : 'sponsor_name';
      q.value = nq.value || '';
      page.value = parseInt(nq.page, 10) || 1;
      load();
    });
    onMounted(load);

    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const dialog = reactive({ open: false, form: blank() });
    function openAdd() { f.clear(); Object.assign(dialog, { open: true, form: blank() }); }
    async function add() {
      const x = dialog.form;
      const body = x.kind === 'SUBJECT'
        ? { kind: x.kind, sponsor_name: x.sponsor_name, cert_type: x.cert_type || null, cert_number: x.cert_number, reason: x.reason }
        : { kind: x.kind, website_name: x.website_name, domains: x.domains.split(/[\s,，;；]+/).filter(Boolean), reason: x.reason };
      const out = await send(() => api.post('/detection/blacklist', body));
      if (out) {
        dialog.open = false;
        toastSuccess('已列入备案信息黑名单');
        router.push(`/blacklist/${out.id}`);
      }
    }
    const open = (row) => router.push(`/blacklist/${row.id}`);
    return { busy, q, rows, total, page, loading, search, maintainer, f, dialog, openAdd, add, open, fmtTime };
  },
  template: `
  <page-card title="备案信息黑名单查询">
    <template #actions>
      <el-button v-if="maintainer" type="primary" @click="openAdd" data-test="blacklist-add">列入黑名单</el-button>
    </template>
    <el-form inline class="filters no-print" @submit.prevent="search(1)" data-test="blacklist-filters">
      <el-form-item label="查询条件">
        <el-radio-group v-model="q.by" data-test="blacklist-by">
          <el-radio value="sponsor_name">主办单位名称</el-radio>
          <el-radio value="domain">域名</el-radio>
        </el-radio-group>
      </el-form-item>
      <el-form-item>
        <el-input v-model="q.value" clearable :placeholder="q.by === 'domain' ? '域名（为空列出全部黑名单网站）' : '主办单位名称（为空列出全部黑名单主体）'"
                  style="width: 300px" name="value" />
      </el-form-item>
      <el-form-item><el-button type="primary" native-type="submit" data-test="search">查询</el-button></el-form-item>
    </el-form>
    <el-table :data="rows" v-loading="loading" border stripe empty-text="暂无数据" data-test="blacklist-table">
      <el-table-column label="类别" width="80"><template #default="{ row }">{{ row.kind === 'SUBJECT' ? '主体' : '网站' }}</template></el-table-column>
      <el-table-column v-if="q.by === 'sponsor_name'" prop="sponsor_name" label="主办单位名称" min-width="180" />
      <el-table-column v-if="q.by === 'sponsor_name'" label="证件" min-width="200">
        <template #default="{ row }">{{ row.cert_type_name }} {{ row.cert_number }}</template>
      </el-table-column>
      <el-table-column v-if="q.by === 'domain'" prop="website_name" label="网站名称" min-width="140" />
      <el-table-column v-if="q.by === 'domain'" label="域名" min-width="200"><template #default="{ row }">{{ row.domains.join('、') }}</template></el-table-column>
      <el-table-column prop="reason" label="列入原因" min-width="180" />
      <el-table-column label="列入时间" width="150"><template #default="{ row }">{{ fmtTime(row.listed_at) }}</template></el-table-column>
      <el-table-column label="操作" width="80" class-name="no-print">
        <template #default="{ row }"><el-button link type="primary" @click="open(row)" data-test="blacklist-detail">详细</el-button></template>
      </el-table-column>
    </el-table>
    <el-pagination class="pager no-print" background layout="total, prev, pager, next" :total="total"
      :current-page="page" :page-size="20" @current-change="search" />
    <el-dialog v-model="dialog.open" title="列入备案信息黑名单" width="min(640px, 95vw)">
      <el-form label-width="110px" @submit.prevent="add" data-test="blacklist-form">
        <el-form-item label="类别">
          <el-radio-group v-model="dialog.form.kind">
            <el-radio value="SUBJECT">主体</el-radio><el-radio value="WEBSITE">网站</el-radio>
          </el-radio-group>
        </el-form-item>
        <template v-if="dialog.form.kind === 'SUBJECT'">
          <el-form-item label="主办单位名称" :error="f.err('sponsor_name')" required>
            <el-input v-model="dialog.form.sponsor_name" name="sponsor_name" maxlength="100" />
          </el-form-item>
          <el-form-item label="证件类型" :error="f.err('cert_type')" required>
            <code-select v-model="dialog.form.cert_type" table="certificate_types" data-test="cert-type" />
          </el-form-item>
          <el-form-item label="证件号码" :error="f.err('cert_number')" required>
            <el-input v-model="dialog.form.cert_number" name="cert_number" maxlength="50" />
          </el-form-item>
        </template>
        <template v-else>
          <el-form-item label="网站名称" :error="f.err('website_name')">
            <el-input v-model="dialog.form.website_name" name="website_name" maxlength="100" />
          </el-form-item>
          <el-form-item label="域名" :error="f.err('domains')" required>
            <el-input v-model="dialog.form.domains" name="domains" placeholder="多个域名以逗号或空格分隔" />
          </el-form-item>
        </template>
        <el-form-item label="列入原因" :error="f.err('reason')" required>
          <el-input v-model="dialog.form.reason" type="textarea" :rows="3" maxlength="500" show-word-limit name="reason" />
        </el-form-item>
        <form-errors :form="f" />
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">取消</el-button>
        <el-button type="primary" :loading="busy" @click="add" data-test="blacklist-save">确定</el-button>
      </template>
    </el-dialog>
  </page-card>`,
};
