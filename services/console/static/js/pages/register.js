// 自主备案账号注册 (public): a sponsor registers its own account — name, password, the province it files
// in, a captcha — then logs in as 网站主办者 and files its subject and websites itself (自主备案).
// The server limits attempts per address (429) and uses up the captcha on every attempt.
import { api, ApiError } from '../lib/api.js';
import { useCaptcha, useFieldErrors } from '../lib/form.js';

const { ref, reactive } = Vue;

const blank = () => ({ username: '', password: '', confirm: '', display_name: '', province: '', phone: '', email: '',
  captcha: '', captcha_id: '' });

export default {
  name: 'RegisterPage',
  setup() {
    const form = reactive(blank());
    const { image, refresh: refreshCaptcha } = useCaptcha(form);
    const busy = ref(false);
    const done = ref(null); // RegistrationOut
    const message = ref('');
    const f = useFieldErrors();

    async function submit() {
      message.value = '';
      if (form.password !== form.confirm) {
        f.set([{ field: 'confirm', message: '两次输入的密码不一致' }]);
        return;
      }
      busy.value = true;
      try {
        const body = { ...form };
        delete body.confirm;
        for (const k of ['phone', 'email']) if (!body[k]) delete body[k];
        const out = await f.run(() => api.post('/filing/sponsor-registrations', body, { auth: false }));
        if (out) {
          done.value = out;
          return;
        }
        message.value = f.state.detail;
        await refreshCaptcha(); // a captcha answers once
      } catch (e) {
        if (!(e instanceof ApiError) || e.handled) throw e;
        message.value = e.detail; // 429: too many attempts from this address
        await refreshCaptcha();
      } finally {
        busy.value = false;
      }
    }
    return { form, image, busy, done, message, f, refreshCaptcha, submit };
  },
  template: `
  <page-card title="自主备案账号注册">
    <template v-if="!done">
      <p class="hint">网站主办者可注册账号后自主备案（自主备案）：登录后自行填写主体和网站信息，报送所在省通信管理局审核，
        无需接入服务提供者代为录入。审核通过后，接入服务提供者凭您的用户名和密码为网站新增接入信息。</p>
      <el-form :model="form" label-width="130px" class="narrow-form" @submit.prevent="submit" data-test="register-form">
        <el-form-item label="用户名" :error="f.err('username')" required>
          <el-input v-model="form.username" name="username" autocomplete="username" maxlength="32" />
          <div class="hint">3至32位字母、数字或“._-”，以字母或数字开头</div>
        </el-form-item>
        <el-form-item label="密码" :error="f.err('password')" required>
          <el-input v-model="form.password" name="password" type="password" show-password autocomplete="new-password"
                    maxlength="128" />
          <div class="hint">至少6位，不能全为数字，不能与用户名相同</div>
        </el-form-item>
        <el-form-item label="确认密码" :error="f.err('confirm')" required>
          <el-input v-model="form.confirm" name="confirm" type="password" show-password autocomplete="new-password"
                    maxlength="128" />
        </el-form-item>
        <el-form-item label="主办单位/主办人" :error="f.err('display_name')" required>
          <el-input v-model="form.display_name" name="display_name" maxlength="50" />
        </el-form-item>
        <el-form-item label="备案所在省份" :error="f.err('province')" required>
          <code-select v-model="form.province" table="provinces" data-test="province" />
          <div class="hint">由该省通信管理局审核；主体所在省份须与此一致</div>
        </el-form-item>
        <el-form-item label="联系电话" :error="f.err('phone')">
          <el-input v-model="form.phone" name="phone" maxlength="32" />
        </el-form-item>
        <el-form-item label="电子邮件" :error="f.err('email')">
          <el-input v-model="form.email" name="email" maxlength="128" />
        </el-form-item>
        <el-form-item label="验证码" :error="f.err('captcha')" required>
          <div class="captcha-row">
            <el-input v-model="form.captcha" name="captcha" maxlength="16" autocomplete="off" />
            <img v-if="image" :src="image" class="captcha-img" alt="验证码，点击刷新" title="看不清？点击刷新"
                 data-test="captcha" @click="refreshCaptcha" />
          </div>
        </el-form-item>
        <el-alert v-if="message" :title="message" type="error" :closable="false" show-icon data-test="register-message" />
        <form-errors :form="f" />
        <el-form-item class="no-print">
          <el-button type="primary" native-type="submit" :loading="busy" data-test="register">注册</el-button>
          <router-link to="/" class="register-back">返回首页登录</router-link>
        </el-form-item>
      </el-form>
    </template>
    <el-result v-else icon="success" title="注册成功" data-test="registered"
               :sub-title="'用户名：' + done.user.username + '。' + done.detail">
      <template #extra>
        <router-link to="/"><el-button type="primary" data-test="to-login">去登录</el-button></router-link>
      </template>
    </el-result>
  </page-card>`,
};
