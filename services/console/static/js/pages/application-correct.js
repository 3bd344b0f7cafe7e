// A returned (核实退回) or rejected (管局退回) application, corrected and submitted again as a new
// version, or abandoned. A first filing is corrected as a whole (subject + websites: PUT
// /applications/{id}); a business application by its part (PUT …/proposal: the subject, the website
// or the access); then POST …/resubmit sends it back to verification.
import { api, ApiError, toastSuccess } from '../lib/api.js';
import { useFieldErrors } from '../lib/form.js';
import { confirmAction } from '../lib/components.js';
import { RECORD_VIEWS } from '../lib/record-views.js';
import {
  accessFromRecord, accessPayload, FILING_FORMS, subjectFromRecord, subjectPayload, websiteFromRecord, websitePayload,
} from '../lib/filing-forms.js';

const { ref, reactive, computed, onMounted } = Vue;
const { useRoute, useRouter } = VueRouter;

// the part of a business application that is corrected
const PART = { CHANGE_SUBJECT: 'subject', ADD_WEBSITE: 'website', CHANGE_WEBSITE: 'website', ADD_ACCESS: 'access',
  CHANGE_ACCESS: 'access' };

/** A website of FilingData / a proposal as the model of <website-form mode="new"> (with its access). */
function newWebsiteModel(w) {
  return { ...websiteFromRecord(w), website_id: w.website_id || null, access: accessFromRecord(w.access) };
}

export default {
  name: 'ApplicationCorrectPage',
  components: { ...RECORD_VIEWS, ...FILING_FORMS },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const id = route.params.id;
    const app = ref(null);
    const missing = ref(false);
    const model = ref(null); // FIRST_FILING: {subject, websites}; else the part's model
    const f = useFieldErrors();
    const busy = ref(false);
    const done = ref(null);
    const masked = ref(false); // the proposal's ID numbers come masked: they must be entered again

    onMounted(async () => {
      try {
        app.value = await api.get(`/filing/applications/${id}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) { missing.value = true; return; }
        throw e;
      }
      const a = app.value;
      if (a.type === 'FIRST_FILING') {
        model.value = reactive({ subject: subjectFromRecord(a.data.subject), websites: a.data.websites.map(newWebsiteModel) });
        return;
      }
      const part = PART[a.type];
      const proposed = (a.proposal && a.proposal[part]) || null;
      if (part === 'subject') model.value = reactive(subjectFromRecord(proposed || a.data.subject));
      else if (part === 'website') {
        const w = proposed || {};
        model.value = reactive(a.type === 'ADD_WEBSITE' ? newWebsiteModel(w) : websiteFromRecord(w));
        if (a.type === 'CHANGE_WEBSITE') {
          const current = (a.data.websites || []).find((x) => x.website_id === a.website_id);
          model.value.allDomains = current ? [...current.domains] : [...model.value.domains];
        }
      } else model.value = reactive(accessFromRecord(proposed && (proposed.after || proposed)));
      // ID numbers of the proposal are masked (*): clear them so that the operator enters them again
      for (const p of [model.value.principal, model.value.subject && model.value.subject.principal]) {
        if (p && String(p.id_number || '').includes('*')) { p.id_number = ''; masked.value = true; }
        if (p && String(p.legal_rep_id || '').includes('*')) { p.legal_rep_id = ''; masked.value = true; }
      }
    });

    const part = computed(() => app.value && (app.value.type === 'FIRST_FILING' ? 'filing' : PART[app.value.type]));
    async function submit() {
      const a = app.value;
      busy.value = true;
      try {
        const saved = await f.run(() => {
          if (a.type === 'FIRST_FILING') {
            return api.put(`/filing/applications/${id}`, {
              subject: subjectPayload(model.value.subject),
              websites: model.value.websites.map((w) => ({ ...websitePayload(w, 'new'), website_id: w.website_id || null })),
            });
          }
          const body = part.value === 'subject' ? { subject: subjectPayload(model.value) }
            : part.value === 'website' ? { website: websitePayload(model.value, a.type === 'ADD_WEBSITE' ? 'new' : 'change') }
              : { access: accessPayload(model.value) };
          return api.put(`/filing/applications/${id}/proposal`, body);
        });
        if (!saved) return;
        const out = await f.run(() => api.post(`/filing/applications/${id}/resubmit`));
        if (out) {
          done.value = out;
          toastSuccess('已重新提交，等待核实');
        }
      } finally {
        busy.value = false;
      }
    }
    async function abandon() {
      if (!(await confirmAction('确定放弃该申请？放弃后不能恢复，主体可办理其他业务。', '放弃申请'))) return;
      app.value = await api.post(`/filing/applications/${id}/abandon`);
      toastSuccess('已放弃该申请');
    }
    return { app, missing, model, f, busy, done, masked, part, submit, abandon, router };
  },
  template: `
  <page-card :title="app ? '更正申请：' + (app.data && app.data.subject ? app.data.subject.name : '') : '更正申请'">
    <el-empty v-if="missing" description="申请不存在或无权查看" />
    <el-result v-else-if="done" icon="success" title="已重新提交" :sub-title="'第' + done.version + '版，等待核实'" data-test="resubmitted">
      <template #extra>
        <el-button type="primary" @click="router.push({ path: '/verify', query: { application_id: app.id, stage: 'all' } })">去核实</el-button>
      </template>
    </el-result>
    <template v-else-if="app && model">
      <el-alert :type="app.correctable ? 'warning' : 'info'" :closable="false" show-icon class="form-errors"
                :title="'当前状态：' + app.status_name + '（第' + app.version + '版）'">
        <div v-if="app.verify_opinion">核实意见：{{ app.verify_opinion }}</div>
        <div v-if="app.bureau_reason">管局意见：{{ app.bureau_reason }}</div>
      </el-alert>
      <el-empty v-if="!app.correctable" description="该申请当前不能更正" />
      <el-form v-else label-width="140px" class="business-form" @submit.prevent="submit">
        <el-alert v-if="masked" type="info" :closable="false" show-icon class="form-errors"
                  title="为保护个人信息，原申请中的证件号码已隐去，请重新填写。" />
        <template v-if="part === 'filing'">
          <subject-form :model="model.subject" :f="f" prefix="subject" />
          <template v-for="(w, i) in model.websites" :key="w.website_id || i">
            <h4 class="section-title">网站{{ i + 1 }}</h4>
            <website-form :model="w" :f="f" :prefix="'websites[' + i + ']'" mode="new" />
          </template>
        </template>
        <subject-form v-else-if="part === 'subject'" :model="model" :f="f" prefix="subject" locked />
        <website-form v-else-if="part === 'website'" :model="model" :f="f" prefix="website"
                      :mode="app.type === 'ADD_WEBSITE' ? 'new' : 'change'" />
        <access-form v-else :model="model" :f="f" prefix="access" />
        <form-errors :form="f" />
        <el-form-item>
          <el-button type="primary" native-type="submit" :loading="busy" data-test="resubmit">保存并重新提交</el-button>
          <el-button v-if="app.abandonable" type="danger" plain @click="abandon" data-test="abandon">放弃申请</el-button>
          <el-button @click="router.back()">返回</el-button>
        </el-form-item>
      </el-form>
    </template>
    <el-skeleton v-else :rows="8" animated />
  </page-card>`,
};
