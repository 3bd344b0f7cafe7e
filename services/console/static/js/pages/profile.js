// 1.12 修改个人信息: name, phone, e-mail of the logged-in user.
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { ROLE_LABELS, session } from '../lib/session.js';

export default {
  name: 'ProfilePage',
  setup() {
    const form = Vue.reactive({ display_name: '', phone: '', email: '' });
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const loaded = Vue.ref(false); // the form appears with the current values, never blank first
    function fill(u) {
      Object.assign(form, { display_name: u.display_name || '', phone: u.phone || '', email: u.email || '' });
    }
    Vue.onMounted(async () => { fill(await api.get('/filing/me')); loaded.value = true; });
    async function submit() {
      const body = { display_name: form.display_name, phone: form.phone || null, email: form.email || null };
      const out = await send(() => api.patch('/filing/me', body));
      if (out) {
        session.user = out;
        fill(out);
        toastSuccess('个人信息已保存');
      }
    }
    return { form, f, busy, loaded, submit, session, ROLE_LABELS };
  },
  template: `
  <page-card title="修改个人信息">
    <el-skeleton v-if="!loaded" :rows="4" animated />
    <el-form v-else :model="form" label-width="110px" class="narrow-form" @submit.prevent="submit">
      <el-form-item label="用户名"><span>{{ session.user.username }}</span></el-form-item>
      <el-form-item label="角色"><span>{{ ROLE_LABELS[session.user.role] }}</span></el-form-item>
      <el-form-item v-if="session.user.provider_name" label="所属单位"><span>{{ session.user.provider_name }}</span></el-form-item>
      <el-form-item label="姓名/名称" :error="f.err('display_name')" required>
        <el-input v-model="form.display_name" maxlength="50" name="display_name" />
      </el-form-item>
      <el-form-item label="联系电话" :error="f.err('phone')">
        <el-input v-model="form.phone" maxlength="30" name="phone" placeholder="手机号码或 086-区号-号码[-分机号]" />
      </el-form-item>
      <el-form-item label="电子邮件" :error="f.err('email')">
        <el-input v-model="form.email" maxlength="100" name="email" />
      </el-form-item>
      <form-errors :form="f" />
      <el-form-item class="no-print">
        <el-button type="primary" native-type="submit" :loading="busy">保存</el-button>
      </el-form-item>
    </el-form>
  </page-card>`,
};
