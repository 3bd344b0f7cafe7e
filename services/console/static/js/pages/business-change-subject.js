// 1.4.3 变更主体: the subject's data as filed, edited (nature, certificate and province cannot change);
// 权限验证 with the sponsor's username and password (for every change where the province setting says so,
// and always when it was filed by itself or another provider).
import { api } from '../lib/api.js';
import { useRecordPage } from '../lib/form.js';
import { session } from '../lib/session.js';
import { RECORD_VIEWS } from '../lib/record-views.js';
import { FILING_FORMS, subjectFromRecord, subjectPayload } from '../lib/filing-forms.js';

const { ref, reactive, computed } = Vue;
const { useRoute } = VueRouter;

export default {
  name: 'ChangeSubjectPage',
  components: { ...RECORD_VIEWS, ...FILING_FORMS },
  setup() {
    const id = useRoute().params.id;
    const { record, model, missing, f, busy, send } = useRecordPage(`/filing/subjects/${id}`, subjectFromRecord);
    const sponsor = reactive({ username: '', password: '' });
    const out = ref(null);
    // the service says (ICP_SPONSOR_AUTH_OWN_CHANGES: by default every change of a subject needs them)
    const needsSponsor = computed(() => record.value && (record.value.change_needs_sponsor
      || record.value.filing_method === 'SELF'
      || record.value.provider_id !== (session.user && session.user.provider_id)));
    async function submit() {
      const body = { subject: subjectPayload(model.value) };
      if (needsSponsor.value) body.sponsor = { ...sponsor };
      out.value = await send(() => api.post(`/filing/subjects/${id}/changes`, body));
    }
    return { record, model, missing, sponsor, f, busy, out, needsSponsor, submit };
  },
  template: `
  <page-card :title="record ? '变更主体：' + record.name : '变更主体'">
    <el-empty v-if="missing" description="主体不存在或无权查看" />
    <submitted-view v-else-if="out" :out="out" back="/business/change-subject" />
    <el-form v-else-if="model" label-width="140px" class="business-form" @submit.prevent="submit">
      <el-alert type="info" :closable="false" show-icon class="form-errors"
                :title="'主体备案号 ' + (record.subject_no || '—') + '：变更经核实和管局审核通过后生效，备案号不变。'" />
      <sponsor-fields v-if="needsSponsor" :model="sponsor" :f="f" />
      <subject-form :model="model" :f="f" prefix="subject" locked />
      <form-errors :form="f" />
      <el-form-item>
        <el-button type="primary" native-type="submit" :loading="busy" data-test="submit">提交变更</el-button>
        <el-button @click="$router.back()">返回</el-button>
      </el-form-item>
    </el-form>
    <el-skeleton v-else :rows="8" animated />
  </page-card>`,
};
