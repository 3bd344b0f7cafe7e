// 系统管理 → 接入服务提供者 (admin): the providers (tenants) and a new one.
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';

const { ref, reactive, onMounted } = Vue;

export default {
  name: 'AdminProvidersPage',
  setup() {
    const rows = ref([]);
    const loading = ref(false);
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const dialog = reactive({ open: false });
    const form = reactive({ name: '', province: '', provider_id: '' });
    async function load() {
      loading.value = true;
      try {
        rows.value = (await api.get('/filing/providers')).items;
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);
    function open() { f.clear(); Object.assign(form, { name: '', province: '', provider_id: '' }); dialog.open = true; }
    async function submit() {
      const out = await send(() => api.post('/filing/providers',
        { name: form.name, province: form.province, provider_id: form.provider_id || null }));
      if (out) {
        dialog.open = false;
        toastSuccess(`已创建接入服务提供者“${out.name}”`);
        load();
      }
    }
    return { busy, rows, loading, f, dialog, form, open, submit, fmtTime };
  },
  template: `
  <page-card title="接入服务提供者">
    <template #actions>
      <el-button type="primary" @click="open">新建接入服务提供者</el-button>
    </template>
    <el-table :data="rows" v-loading="loading" border stripe empty-text="暂无数据">
      <el-table-column prop="name" label="名称" min-width="200" />
      <el-table-column prop="provider_id" label="标识" min-width="140" />
      <el-table-column label="所在省份" width="120"><template #default="{ row }"><code-name table="provinces" :code="row.province" /></template></el-table-column>
      <el-table-column label="创建时间" width="160"><template #default="{ row }">{{ fmtTime(row.created_at) }}</template></el-table-column>
    </el-table>
    <el-dialog v-model="dialog.open" title="新建接入服务提供者" width="min(520px, 95vw)">
      <el-form label-width="90px" @submit.prevent="submit">
        <el-form-item label="名称" :error="f.err('name')" required><el-input v-model="form.name" maxlength="100" name="name" /></el-form-item>
        <el-form-item label="所在省份" :error="f.err('province')" required><code-select v-model="form.province" table="provinces" /></el-form-item>
        <el-form-item label="标识" :error="f.err('provider_id')">
          <el-input v-model="form.provider_id" maxlength="40" name="provider_id" placeholder="可选：小写字母、数字、连字符" />
        </el-form-item>
        <form-errors :form="f" />
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">取消</el-button>
        <el-button type="primary" :loading="busy" @click="submit">创建</el-button>
      </template>
    </el-dialog>
  </page-card>`,
};
