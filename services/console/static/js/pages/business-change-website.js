// 1.4.4 变更网站: the website's data as filed, edited; domains can only be removed.
import { api } from '../lib/api.js';
import { useRecordPage } from '../lib/form.js';
import { RECORD_VIEWS } from '../lib/record-views.js';
import { FILING_FORMS, websiteFromRecord, websitePayload } from '../lib/filing-forms.js';

const { ref } = Vue;
const { useRoute } = VueRouter;

export default {
  name: 'ChangeWebsitePage',
  components: { ...RECORD_VIEWS, ...FILING_FORMS },
  setup() {
    const id = useRoute().params.id;
    const { record, model, missing, f, busy, send } = useRecordPage(`/filing/websites/${id}`, websiteFromRecord);
    const out = ref(null);
    async function submit() {
      out.value = await send(() => api.post(`/filing/websites/${id}/changes`, { website: websitePayload(model.value, 'change') }));
    }
    return { record, model, missing, f, busy, out, submit };
  },
  template: `
  <page-card :title="record ? '变更网站：' + record.name : '变更网站'">
    <el-empty v-if="missing" description="网站不存在或无权查看" />
    <submitted-view v-else-if="out" :out="out" back="/business/change-website" />
    <el-form v-else-if="model" label-width="140px" class="business-form" @submit.prevent="submit">
      <el-alert type="info" :closable="false" show-icon class="form-errors"
                :title="'网站备案号 ' + (record.website_no || '—') + '（' + record.subject.name + '）：变更经核实和管局审核通过后生效，备案号不变。'" />
      <website-form :model="model" :f="f" prefix="website" mode="change" />
      <form-errors :form="f" />
      <el-form-item>
        <el-button type="primary" native-type="submit" :loading="busy" data-test="submit">完成</el-button>
        <el-button @click="$router.back()">返回</el-button>
      </el-form-item>
    </el-form>
    <el-skeleton v-else :rows="8" animated />
  </page-card>`,
};
