// 1.11 修改密码: the old password, the new one twice. The server ends the user's other sessions.
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { session } from '../lib/session.js';

export default {
  name: 'PasswordPage',
  setup() {
    const form = Vue.reactive({ old_password: '', new_password: '', confirm: '' });
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const rule = Vue.computed(() => (session.user && session.user.role === 'sponsor'
      ? '至少6位，且不能全为数字' : '6至12位字母、数字或“.-_”，须同时包含字母和数字'));
    async function submit() {
      if (form.new_password !== form.confirm) {
        f.set([{ field: 'confirm', message: '两次输入的新密码不一致' }]);
        return;
      }
      const out = await send(() => api.put('/filing/me/password',
        { old_password: form.old_password, new_password: form.new_password }));
      if (out) {
        toastSuccess(out.detail || '密码已修改');
        Object.assign(form, { old_password: '', new_password: '', confirm: '' });
      }
    }
    return { form, f, busy, rule, submit };
  },
  template: `
  <page-card title="修改密码">
    <el-form :model="form" label-width="110px" class="narrow-form" @submit.prevent="submit">
      <el-form-item label="原密码" :error="f.err('old_password')" required>
        <el-input v-model="form.old_password" type="password" show-password autocomplete="current-password" name="old_password" />
      </el-form-item>
      <el-form-item label="新密码" :error="f.err('new_password')" required>
        <el-input v-model="form.new_password" type="password" show-password autocomplete="new-password" name="new_password" />
        <div class="hint">{{ rule }}</div>
      </el-form-item>
      <el-form-item label="确认新密码" :error="f.err('confirm')" required>
        <el-input v-model="form.confirm" type="password" show-password autocomplete="new-password" name="confirm" />
      </el-form-item>
      <form-errors :form="f" />
      <el-form-item class="no-print">
        <el-button type="primary" native-type="submit" :loading="busy">修改</el-button>
      </el-form-item>
    </el-form>
  </page-card>`,
};
