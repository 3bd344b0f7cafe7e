// 1.4.1 新增网站: a new website (one domain) with this provider's access for a filed subject; the
// sponsor's credentials when the subject was filed by itself or through another provider. A subject this
// provider does not serve comes from 查找已备案主体 after the credential check (lib/sponsor-grant.js), with
// the credentials filled in. The answer: the application waiting for verification, and the
// pre-approval departments when needed.
import { api } from '../lib/api.js';
import { useRecordPage } from '../lib/form.js';
import { session } from '../lib/session.js';
import { takeGrant } from '../lib/sponsor-grant.js';
import { RECORD_VIEWS } from '../lib/record-views.js';
import { blankWebsite, FILING_FORMS, websitePayload } from '../lib/filing-forms.js';

const { ref, reactive, computed } = Vue;
const { useRoute } = VueRouter;

export default {
  name: 'AddWebsitePage',
  components: { ...RECORD_VIEWS, ...FILING_FORMS },
  setup() {
    const id = useRoute().params.id;
    const grant = takeGrant(id);
    const { record: subject, missing, f, busy, send } = useRecordPage(`/filing/subjects/${id}`, null,
      { initial: grant && grant.subject });
    const website = reactive(blankWebsite());
    const sponsor = reactive(grant ? grant.sponsor : { username: '', password: '' });
    const out = ref(null);
    const needsSponsor = computed(() => subject.value && (subject.value.filing_method === 'SELF'
      || subject.value.provider_id !== (session.user && session.user.provider_id)));
    async function submit() {
      const body = { website: websitePayload(website, 'new') };
      if (needsSponsor.value) body.sponsor = { ...sponsor };
      out.value = await send(() => api.post(`/filing/subjects/${id}/websites`, body));
    }
    return { subject, missing, website, sponsor, f, busy, out, needsSponsor, submit };
  },
  template: `
  <page-card :title="subject ? '新增网站：' + subject.name : '新增网站'">
    <el-empty v-if="missing" description="主体不存在或无权查看">
      <span class="hint">自主备案或由其他接入服务提供者备案的主体，请在
        <router-link to="/business/find-subject">查找已备案主体</router-link> 中经主办者权限验证后新增网站。</span>
    </el-empty>
    <submitted-view v-else-if="out" :out="out" back="/business/add-website" />
    <el-form v-else-if="subject" label-width="140px" class="business-form" @submit.prevent="submit">
      <detail-view :items="[
        { label: '主办单位名称', value: subject.name },
        { label: '主体备案号', value: subject.subject_no },
        { label: '已有网站', value: subject.websites.map((w) => w.name + (w.website_no ? '（' + w.website_no + '）' : '')).join('、') },
      ]" />
      <sponsor-fields v-if="needsSponsor" :model="sponsor" :f="f" />
      <website-form :model="website" :f="f" prefix="website" mode="new" :nature="subject.nature" />
      <form-errors :form="f" />
      <el-form-item>
        <el-button type="primary" native-type="submit" :loading="busy" data-test="submit">添加</el-button>
        <el-button @click="$router.back()">返回</el-button>
      </el-form-item>
    </el-form>
    <el-skeleton v-else :rows="8" animated />
  </page-card>`,
};
