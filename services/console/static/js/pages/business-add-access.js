// 1.4.2 新增接入: this provider's access to a website already filed (through the sponsor itself or another
// provider), found by its website number or domain; the sponsor's username and password (权限验证)
// authorise it. The application is then verified and reviewed like any other.
import { api, ApiError } from '../lib/api.js';
import { useFieldErrors } from '../lib/form.js';
import { RECORD_VIEWS } from '../lib/record-views.js';
import { accessPayload, blankAccess, FILING_FORMS } from '../lib/filing-forms.js';

const { ref, reactive } = Vue;
const { useRoute } = VueRouter;

export default {
  name: 'AddAccessPage',
  components: { ...RECORD_VIEWS, ...FILING_FORMS },
  setup() {
    const route = useRoute();
    const target = ref(route.query.website || '');
    const sponsor = reactive({ username: '', password: '' });
    const access = reactive(blankAccess());
    const f = useFieldErrors();
    const busy = ref(false);
    const out = ref(null);
    async function submit() {
      f.clear();
      const ref_ = target.value.trim();
      if (!ref_) {
        f.set([{ field: 'website', message: '请填写网站备案号或域名' }]);
        return;
      }
      const body = { access: accessPayload(access) };
      if (sponsor.username || sponsor.password) body.sponsor = { ...sponsor };
      busy.value = true;
      try {
        out.value = await f.run(async () => {
          try {
            return await api.post(`/filing/websites/${encodeURIComponent(ref_)}/accesses`, body);
          } catch (e) {
            if (e instanceof ApiError && e.status === 404) {
              throw new ApiError(422, { detail: e.detail, errors: [{ field: 'website', message: '未找到该备案号或域名的已备案网站' }] });
            }
            if (e instanceof ApiError && e.status === 403 && e.errors.length) throw new ApiError(422, e.body);
            throw e;
          }
        });
      } finally {
        busy.value = false;
      }
    }
    return { target, sponsor, access, f, busy, out, submit };
  },
  template: `
  <page-card title="新增接入">
    <submitted-view v-if="out" :out="out" back="/business/add-access" />
    <el-form v-else label-width="140px" class="business-form" @submit.prevent="submit">
      <el-alert type="info" :closable="false" show-icon class="form-errors"
                title="为已备案网站增加本接入服务提供者的接入信息。须先取得主办者的自主备案用户名和密码（权限验证）。" />
      <el-form-item label="网站备案号或域名" :error="f.err('website')" required>
        <el-input v-model="target" maxlength="253" name="website" placeholder="如 京ICP备2026000001号-1 或 example.com" style="max-width: 420px" />
      </el-form-item>
      <h4 class="section-title">权限验证</h4>
      <div class="form-grid">
        <el-form-item label="主办者用户名" :error="f.err('sponsor.username') || f.err('sponsor')" required>
          <el-input v-model="sponsor.username" maxlength="64" name="sponsor_username" autocomplete="off" />
        </el-form-item>
        <el-form-item label="主办者密码" :error="f.err('sponsor.password')" required>
          <el-input v-model="sponsor.password" type="password" show-password maxlength="128" name="sponsor_password" autocomplete="new-password" />
        </el-form-item>
      </div>
      <h4 class="section-title">接入信息</h4>
      <access-form :model="access" :f="f" prefix="access" />
      <form-errors :form="f" />
      <el-form-item>
        <el-button type="primary" native-type="submit" :loading="busy" data-test="submit">提交</el-button>
      </el-form-item>
    </el-form>
  </page-card>`,
};
