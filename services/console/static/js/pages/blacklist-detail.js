// One filing-blacklist entry (详细); the regulator (its province's entries) and the admin remove it
// here (移出黑名单) with a reason.
import { api, ApiError, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';
import { hasRole } from '../lib/session.js';

const { ref, reactive, computed, onMounted } = Vue;
const { useRoute, useRouter } = VueRouter;

export default {
  name: 'BlacklistDetailPage',
  setup() {
    const route = useRoute();
    const router = useRouter();
    const e = ref(null);
    const missing = ref(false);
    const maintainer = hasRole('bureau', 'admin');
    async function load() {
      try {
        e.value = await api.get(`/detection/blacklist/${route.params.id}`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) missing.value = true;
        else throw err;
      }
    }
    onMounted(load);
    const items = computed(() => {
      const x = e.value;
      if (!x) return [];
      const common = [
        { label: '类别', value: x.kind === 'SUBJECT' ? '主体' : '网站' },
        { label: '状态', value: x.active ? '在黑名单中' : '已移出' },
      ];
      const own = x.kind === 'SUBJECT'
        ? [{ label: '主办单位名称', value: x.sponsor_name }, { label: '证件类型', value: x.cert_type_name },
          { label: '证件号码', value: x.cert_number }]
        : [{ label: '网站名称', value: x.website_name }, { label: '域名', value: x.domains.join('、') }];
      const removed = x.active ? [] : [{ label: '移出时间', value: fmtTime(x.removed_at) },
        { label: '移出原因', value: x.removal_reason }];
      return [...common, ...own, { label: '列入原因', value: x.reason, span: 2 },
        { label: '列入时间', value: fmtTime(x.listed_at) }, { label: '列入单位', value: x.listed_province ? '省通信管理局' : '系统管理员' },
        ...removed];
    });
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const dialog = reactive({ open: false, reason: '' });
    async function remove() {
      const out = await send(() => api.post(`/detection/blacklist/${e.value.id}/removal`, { reason: dialog.reason }));
      if (out) {
        dialog.open = false;
        e.value = out;
        toastSuccess('已移出备案信息黑名单');
      }
    }
    const back = () => router.push({ path: '/blacklist', query: { by: e.value && e.value.kind === 'WEBSITE' ? 'domain' : 'sponsor_name' } });
    return { busy, e, missing, items, maintainer, f, dialog, remove, back };
  },
  template: `
  <page-card title="黑名单详细信息">
    <template #actions>
      <el-button v-if="e && e.active && maintainer" type="danger" @click="dialog.open = true" data-test="blacklist-remove">移出黑名单</el-button>
      <el-button @click="back">返回</el-button>
    </template>
    <el-result v-if="missing" icon="warning" title="黑名单记录不存在" />
    <detail-view v-if="e" :items="items" data-test="blacklist-entry" />
    <el-dialog v-model="dialog.open" title="移出备案信息黑名单" width="min(520px, 95vw)">
      <el-form label-width="90px" @submit.prevent="remove">
        <el-form-item label="移出原因" :error="f.err('reason')" required>
          <el-input v-model="dialog.reason" type="textarea" :rows="3" maxlength="500" name="removal_reason" />
        </el-form-item>
        <form-errors :form="f" />
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">取消</el-button>
        <el-button type="danger" :loading="busy" @click="remove" data-test="blacklist-remove-confirm">确定移出</el-button>
      </template>
    </el-dialog>
  </page-card>`,
};
