// 系统管理 → 用户管理 (admin): accounts of provider operators, bureau reviewers and admins; create one
// (a chosen or a generated password, the generated one shown once), disable/enable, unlock.
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { usePagedList } from '../lib/list.js';
import { fmtTime } from '../lib/format.js';
import { confirmAction } from '../lib/components.js';

const { ref, reactive, onMounted } = Vue;

const ROLES = [
  { value: 'provider', label: '接入服务商操作员' },
  { value: 'bureau', label: '管局审核人员' },
  { value: 'admin', label: '系统管理员' },
  { value: 'sponsor', label: '网站主办者' },
];

export default {
  name: 'AdminUsersPage',
  setup() {
    const list = usePagedList('/filing/users', { q: '', role: '', provider_id: '', province: '' });
    const providers = ref([]);
    onMounted(async () => { providers.value = (await api.get('/filing/providers')).items; });
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const dialog = reactive({ open: false });
    const blank = () => ({ role: 'provider', username: '', password: '', generate_password: true, display_name: '',
      provider_id: '', province: '', phone: '', email: '' });
    const form = reactive(blank());
    const created = ref(null); // {user, password}: the generated password is shown once

    function open() { f.clear(); Object.assign(form, blank()); created.value = null; dialog.open = true; }
    async function submit() {
      const body = {
        role: form.role, username: form.username, display_name: form.display_name || null,
        phone: form.phone || null, email: form.email || null,
        provider_id: form.role === 'provider' ? form.provider_id || null : null,
        province: form.role === 'bureau' ? form.province || null : null,
      };
      if (form.generate_password) body.generate_password = true;
      else body.password = form.password;
      const out = await send(() => api.post('/filing/users', body));
      if (out) {
        dialog.open = false;
        created.value = out;
        toastSuccess('账户已创建');
        list.search();
      }
    }
    async function toggle(row) {
      const disabling = !row.disabled;
      if (disabling && !(await confirmAction(`确定停用账户“${row.username}”？其全部会话将立即失效。`, '停用账户'))) return;
      await api.patch(`/filing/users/${row.id}`, { disabled: disabling });
      toastSuccess(disabling ? '账户已停用' : '账户已启用');
      list.refresh();
    }
    async function unlock(row) {
      await api.patch(`/filing/users/${row.id}`, { unlock: true });
      toastSuccess('已解除锁定');
      list.refresh();
    }
    async function copy(text) {
      try {
        await navigator.clipboard.writeText(text);
        toastSuccess('已复制');
      } catch (e) {
        window.prompt('请手工复制', text);
      }
    }
    const locked = (row) => row.locked_until && new Date(row.locked_until) > new Date();
    return { busy, list, providers, f, dialog, form, created, ROLES, open, submit, toggle, unlock, copy, locked, fmtTime };
  },
  template: `
  <page-card title="用户管理">
    <template #actions>
      <el-button type="primary" @click="open" data-test="new-user">新建账户</el-button>
    </template>
    <el-alert v-if="created && created.password" type="warning" show-icon :closable="true" class="form-errors"
              @close="created = null" data-test="created-password"
              :title="'账户 ' + created.user.username + ' 的初始密码：' + created.password + '（仅显示这一次，请妥善转交并提醒其登录后修改）'">
      <el-button size="small" @click="copy(created.password)">复制密码</el-button>
    </el-alert>
    <list-filters :list="list">
      <el-form-item label="用户名或姓名">
        <el-input v-model="list.filters.q" clearable placeholder="包含" style="width: 170px" name="q" />
      </el-form-item>
      <el-form-item label="角色">
        <el-select v-model="list.filters.role" clearable placeholder="全部" style="width: 160px">
          <el-option v-for="r in ROLES" :key="r.value" :label="r.label" :value="r.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="接入服务提供者">
        <el-select v-model="list.filters.provider_id" clearable filterable placeholder="全部" style="width: 200px">
          <el-option v-for="p in providers" :key="p.provider_id" :label="p.name" :value="p.provider_id" />
        </el-select>
      </el-form-item>
      <el-form-item label="省份">
        <code-select v-model="list.filters.province" table="provinces" placeholder="全部" style="width: 140px" />
      </el-form-item>
    </list-filters>
    <paged-table :list="list">
      <el-table-column prop="username" label="用户名" min-width="120" />
      <el-table-column prop="display_name" label="姓名/名称" min-width="140" />
      <el-table-column prop="role_name" label="角色" width="140" />
      <el-table-column label="所属" min-width="160">
        <template #default="{ row }">{{ row.provider_name || row.province_name || '—' }}</template>
      </el-table-column>
      <el-table-column label="状态" width="110">
        <template #default="{ row }">
          <el-tag v-if="row.disabled" type="info">已停用</el-tag>
          <el-tag v-else-if="locked(row)" type="danger">已锁定</el-tag>
          <el-tag v-else type="success">正常</el-tag>
        </template>
      </el-table-column>
      <el-table-column label="最近登录" width="150"><template #default="{ row }">{{ fmtTime(row.last_login_at) || '—' }}</template></el-table-column>
      <el-table-column label="操作" width="150" class-name="no-print">
        <template #default="{ row }">
          <el-button link :type="row.disabled ? 'primary' : 'danger'" @click="toggle(row)">{{ row.disabled ? '启用' : '停用' }}</el-button>
          <el-button v-if="locked(row)" link type="primary" @click="unlock(row)">解除锁定</el-button>
        </template>
      </el-table-column>
    </paged-table>

    <el-dialog v-model="dialog.open" title="新建账户" width="min(600px, 95vw)">
      <el-form label-width="110px" @submit.prevent="submit">
        <el-form-item label="角色" :error="f.err('role')" required>
          <el-radio-group v-model="form.role">
            <el-radio v-for="r in ROLES.slice(0, 3)" :key="r.value" :value="r.value">{{ r.label }}</el-radio>
          </el-radio-group>
        </el-form-item>
        <el-form-item label="用户名" :error="f.err('username')" required>
          <el-input v-model="form.username" maxlength="32" name="username" placeholder="3至32位字母、数字或“._-”" />
        </el-form-item>
        <el-form-item label="初始密码" :error="f.err('password') || f.err('generate_password')" required>
          <el-checkbox v-model="form.generate_password">由系统生成（仅显示一次）</el-checkbox>
          <el-input v-if="!form.generate_password" v-model="form.password" type="password" show-password
                    maxlength="128" name="password" placeholder="6至12位，须同时包含字母和数字" />
        </el-form-item>
        <el-form-item label="姓名/名称" :error="f.err('display_name')">
          <el-input v-model="form.display_name" maxlength="50" name="display_name" />
        </el-form-item>
        <el-form-item v-if="form.role === 'provider'" label="接入服务提供者" :error="f.err('provider_id')" required>
          <el-select v-model="form.provider_id" filterable placeholder="请选择" style="width: 100%">
            <el-option v-for="p in providers" :key="p.provider_id" :label="p.name" :value="p.provider_id" />
          </el-select>
        </el-form-item>
        <el-form-item v-if="form.role === 'bureau'" label="所属省份" :error="f.err('province')" required>
          <code-select v-model="form.province" table="provinces" />
        </el-form-item>
        <el-form-item label="联系电话" :error="f.err('phone')">
          <el-input v-model="form.phone" maxlength="30" name="phone" />
        </el-form-item>
        <el-form-item label="电子邮件" :error="f.err('email')">
          <el-input v-model="form.email" maxlength="100" name="email" />
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
