// 1.4.5 变更接入 / 取消接入: this provider's access to the website — change it (an application that is
// verified and reviewed) or cancel it ("删除": immediate; a website left without access is a shell).
import { api, toastSuccess } from '../lib/api.js';
import { useRecordPage } from '../lib/form.js';
import { session } from '../lib/session.js';
import { confirmAction } from '../lib/components.js';
import { RECORD_VIEWS } from '../lib/record-views.js';
import { accessFromRecord, accessPayload, FILING_FORMS } from '../lib/filing-forms.js';

const { ref, computed } = Vue;
const { useRoute } = VueRouter;

export default {
  name: 'ChangeAccessPage',
  components: { ...RECORD_VIEWS, ...FILING_FORMS },
  setup() {
    const id = useRoute().params.id;
    // the model is this provider's active access (`mine`, read when the record has arrived)
    const { record, model, missing, f, busy, send } = useRecordPage(`/filing/websites/${id}`,
      () => accessFromRecord(mine.value));
    const out = ref(null);
    const cancelled = ref(null);
    const mine = computed(() => record.value && record.value.accesses.find(
      (a) => a.provider_id === (session.user && session.user.provider_id) && a.status === 'ACTIVE'));
    async function submit() {
      out.value = await send(() => api.put(`/filing/websites/${id}/accesses/current`, accessPayload(model.value)));
    }
    async function cancelAccess() {
      const ok = await confirmAction(`确定取消本接入服务提供者对网站“${record.value.name}”的接入？取消接入立即生效；`
        + '网站没有其他接入时将成为空壳网站。', '取消接入', '确定取消接入');
      if (!ok) return;
      cancelled.value = await send(() => api.del(`/filing/websites/${id}/accesses/current`));
      if (cancelled.value) toastSuccess('已取消接入');
    }
    return { record, model, mine, missing, f, busy, out, cancelled, submit, cancelAccess };
  },
  template: `
  <page-card :title="record ? '变更接入：' + record.name : '变更接入'">
    <el-empty v-if="missing" description="网站不存在或无权查看" />
    <submitted-view v-else-if="out" :out="out" back="/business/change-access" />
    <el-result v-else-if="cancelled" icon="success" title="已取消接入" :sub-title="cancelled.notice" data-test="access-cancelled">
      <template #extra>
        <el-button type="primary" @click="$router.push('/business/change-access')">返回</el-button>
        <el-button @click="$router.push('/records/websites/' + cancelled.website_id)">查看网站</el-button>
      </template>
    </el-result>
    <template v-else-if="model">
      <el-empty v-if="!mine" description="本接入服务提供者没有该网站的有效接入" />
      <template v-else>
        <access-panel :a="mine" title="当前接入信息" />
        <el-form label-width="140px" class="business-form" @submit.prevent="submit">
          <h4 class="section-title">变更后的接入信息</h4>
          <access-form :model="model" :f="f" prefix="" />
          <form-errors :form="f" />
          <el-form-item>
            <el-button type="primary" native-type="submit" :loading="busy" data-test="submit">提交变更</el-button>
            <el-button type="danger" plain :loading="busy" @click="cancelAccess" data-test="cancel-access">取消接入（删除）</el-button>
            <el-button @click="$router.back()">返回</el-button>
          </el-form-item>
        </el-form>
      </template>
    </template>
    <el-skeleton v-else :rows="8" animated />
  </page-card>`,
};
