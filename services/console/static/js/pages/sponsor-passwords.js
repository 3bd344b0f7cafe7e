// 系统管理 → 主办者密码重置 (1.6.1, provider): the sponsor accounts this provider filed for, filtered;
// reset the selected or all matching ones to one password or a generated one each. The new passwords
// are shown once, with the workbook the answer carries (nothing is kept on the server).
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';

const { ref, reactive, onMounted } = Vue;

function download(name, base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], {
    type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export default {
  name: 'SponsorPasswordsPage',
  setup() {
    const filters = reactive({ sponsor_name: '', username: '', cert_number: '', domain: '' });
    const page = reactive({ page: 1, page_size: 20, total: 0 });
    const rows = ref([]);
    const selected = ref([]);
    const loading = ref(false);
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const dialog = reactive({ open: false, all: false, mode: 'generate', password: '' });
    const result = ref(null);
    async function load() {
      loading.value = true;
      try {
        const out = await api.get('/filing/sponsors',
          { query: { ...filters, page: page.page, page_size: page.page_size } });
        rows.value = out.items;
        page.total = out.total;
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);
    function search() { page.page = 1; load(); }
    function open(all) {
      f.clear();
      Object.assign(dialog, { open: true, all, mode: 'generate', password: '' });
    }
    async function submit() {
      const body = { mode: dialog.mode, password: dialog.mode === 'same' ? dialog.password : null };
      if (dialog.all) Object.assign(body, { all_matching: true, filters: { ...filters } });
      else body.ids = selected.value.map((r) => r.id);
      const out = await send(() => api.post('/filing/sponsors/password-resets', body));
      if (out) {
        dialog.open = false;
        result.value = out;
        toastSuccess(out.detail);
        load();
      }
    }
    return { busy, filters, page, rows, selected, loading, f, dialog, result, load, search, open, submit, fmtTime,
      download };
  },
  template: `
  <page-card title="主办者密码重置">
    <el-form inline data-test="sponsor-filters" @submit.prevent="search">
      <el-form-item label="主办单位名称"><el-input v-model="filters.sponsor_name" name="sponsor_name" clearable /></el-form-item>
      <el-form-item label="用户名"><el-input v-model="filters.username" name="username" clearable /></el-form-item>
      <el-form-item label="证件号码"><el-input v-model="filters.cert_number" name="cert_number" clearable /></el-form-item>
      <el-form-item label="域名"><el-input v-model="filters.domain" name="domain" clearable /></el-form-item>
      <el-form-item><el-button type="primary" native-type="submit" data-test="search">查询</el-button></el-form-item>
    </el-form>
    <div style="margin-bottom: 12px">
      <el-button type="primary" :disabled="!selected.length" data-test="reset-selected" @click="open(false)">重置所选账号密码</el-button>
      <el-button :disabled="!page.total" data-test="reset-all" @click="open(true)">重置全部符合条件的账号（{{ page.total }}）</el-button>
    </div>
    <el-table :data="rows" v-loading="loading" border stripe empty-text="暂无数据" row-key="id"
              @selection-change="(s) => (selected = s)">
      <el-table-column type="selection" width="44" />
      <el-table-column prop="username" label="用户名" min-width="140" />
      <el-table-column label="主办单位名称" min-width="200"><template #default="{ row }">{{ row.sponsor_names.join('、') }}</template></el-table-column>
      <el-table-column label="证件号码" min-width="180"><template #default="{ row }">{{ row.cert_numbers.join('、') }}</template></el-table-column>
      <el-table-column label="域名" min-width="180"><template #default="{ row }">{{ row.domains.join('、') }}</template></el-table-column>
      <el-table-column label="密码修改时间" width="160"><template #default="{ row }">{{ fmtTime(row.password_changed_at) }}</template></el-table-column>
    </el-table>
    <el-pagination v-model:current-page="page.page" :page-size="page.page_size" :total="page.total"
                   layout="total, prev, pager, next" @current-change="load" />
    <el-dialog v-model="dialog.open" title="重置主办者密码" width="min(520px, 95vw)">
      <p>{{ dialog.all ? '将重置全部符合筛选条件的 ' + page.total + ' 个账号' : '将重置所选的 ' + selected.length + ' 个账号' }}，其已登录的会话将全部注销。</p>
      <el-form label-width="90px" @submit.prevent="submit">
        <el-form-item label="新密码">
          <el-radio-group v-model="dialog.mode" data-test="mode">
            <el-radio value="generate">每个账号随机生成</el-radio>
            <el-radio value="same">统一设置</el-radio>
          </el-radio-group>
        </el-form-item>
        <el-form-item v-if="dialog.mode === 'same'" label="统一密码" :error="f.err('password')" required>
          <el-input v-model="dialog.password" name="password" type="password" show-password maxlength="64"
                    placeholder="至少6位，不能全为数字" />
        </el-form-item>
        <form-errors :form="f" />
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">取消</el-button>
        <el-button type="primary" :loading="busy" data-test="confirm-reset" @click="submit">确认重置</el-button>
      </template>
    </el-dialog>
    <el-dialog :model-value="!!result" title="新密码（仅显示这一次）" width="min(640px, 95vw)" @close="result = null">
      <template v-if="result">
        <el-alert type="warning" :closable="false" title="关闭后将无法再次查看新密码，请下载或妥善记录后交付主办者" />
        <el-table :data="result.items" border data-test="new-passwords" style="margin-top: 12px">
          <el-table-column prop="username" label="用户名" min-width="140" />
          <el-table-column label="主办单位名称" min-width="180"><template #default="{ row }">{{ row.sponsor_names.join('、') }}</template></el-table-column>
          <el-table-column prop="password" label="新密码" min-width="140" />
        </el-table>
      </template>
      <template #footer>
        <el-button data-test="download" @click="download(result.xlsx_filename, result.xlsx_base64)">下载 Excel</el-button>
        <el-button type="primary" @click="result = null">已记录，关闭</el-button>
      </template>
    </el-dialog>
  </page-card>`,
};
