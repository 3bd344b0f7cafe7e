// 1.3.1 代为录入: the five-step entry wizard over the draft API (every step is saved).
//   1 主体信息 → 2 网站信息 → 3 网站浏览（是否还开办其他网站？）→ 4 全部信息浏览（提交）→ 5 完成
// An unfinished draft found at the start must be continued or deleted before anything else.
// The URL keeps the draft and the step (`#/entry?draft=…&step=2&site=…`): a reload resumes there.
// `self-filing` (pages/self-filing.js, a sponsor's 自主备案): the same drafts and steps without access
// information; submitted to the province's bureau, nothing to hand on at the end.
import { api, ApiError, toastError, toastSuccess } from '../lib/api.js';
import { useFieldErrors } from '../lib/form.js';
import { confirmAction } from '../lib/components.js';
import { fmtTime } from '../lib/format.js';
import { filingFieldLabel, RECORD_VIEWS } from '../lib/record-views.js';
import { blankSubject, blankWebsite, fill, FILING_FORMS, subjectPayload, websitePayload } from '../lib/filing-forms.js';

const { ref, reactive, computed, onMounted, onBeforeUnmount } = Vue;

const STEPS = ['主体信息', '网站信息', '网站浏览', '全部信息浏览', '完成'];

export default {
  name: 'EntryPage',
  components: { ...RECORD_VIEWS, ...FILING_FORMS },
  props: { selfFiling: Boolean },
  setup(props) {
    const route = VueRouter.useRoute();
    const router = VueRouter.useRouter();
    const f = useFieldErrors();
    // labels above the fields in a narrow window
    const narrow = ref(window.innerWidth < 900);
    const onResize = () => { narrow.value = window.innerWidth < 900; };
    onMounted(() => window.addEventListener('resize', onResize));
    onBeforeUnmount(() => window.removeEventListener('resize', onResize));
    const draft = ref(null); // DraftOut
    const step = ref(0); // 0 = not started (prompt or loading)
    const prompt = ref(null); // the unfinished draft to continue or delete
    const subject = reactive(blankSubject());
    const website = ref(blankWebsite());
    const siteId = ref(null); // the website being edited (null: a new one)
    const back = ref(3); // where "返回" of the website/subject forms goes
    const busy = ref(false);
    const done = ref(null); // CompletionOut
    const copied = ref(false);
    const blocked = ref(''); // a sponsor that cannot self-file (already has a subject …): the reason
    const what = props.selfFiling ? '自主备案' : '代为录入';

    const siteIndex = computed(() => {
      if (!draft.value) return 0;
      const i = siteId.value ? draft.value.websites.findIndex((w) => w.id === siteId.value) : -1;
      return i >= 0 ? i : draft.value.websites.length;
    });
    const sitePrefix = computed(() => `websites[${siteIndex.value}]`);

    function keepUrl() {
      const query = { draft: draft.value ? draft.value.id : undefined, step: String(step.value) };
      if (step.value === 2 && siteId.value) query.site = siteId.value;
      router.replace({ query });
    }
    function go(n) {
      step.value = n;
      keepUrl();
      window.scrollTo(0, 0);
    }

    function use(d) {
      draft.value = d;
      const rep = subject.principal.is_legal_rep; // the form's own switch: the draft does not hold it
      Object.assign(subject, fill(blankSubject(), d.subject));
      if (rep === false) subject.principal.is_legal_rep = false;
    }

    function editWebsite(id, returnTo = 3) {
      f.clear();
      siteId.value = id;
      back.value = returnTo;
      const saved = id ? (draft.value.websites.find((w) => w.id === id) || {}).data : null;
      website.value = fill(blankWebsite(), saved);
      go(2);
    }

    async function start() {
      try {
        use(await api.post('/filing/drafts'));
      } catch (e) {
        if (!props.selfFiling || !(e instanceof ApiError) || ![403, 409].includes(e.status)) throw e;
        blocked.value = e.detail;
        return;
      }
      prompt.value = null;
      go(1);
    }

    function resume(d, wanted, site) {
      use(d);
      prompt.value = null;
      // the server's step follows what was saved; a subject saved with errors is finished first
      const subjectErrors = d.errors.some((e) => e.field.startsWith('subject'));
      const n = subjectErrors && !wanted ? 1 : Math.min(Math.max(parseInt(wanted, 10) || d.step, 1), 4);
      if (n === 2) editWebsite(site && d.websites.some((w) => w.id === site) ? site : null, d.websites.length ? 3 : 1);
      else go(n === 3 && !d.websites.length ? 2 : n);
    }

    onMounted(async () => {
      let current = null;
      try {
        current = await api.get('/filing/drafts/current');
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 404) throw e;
      }
      if (!current) return start();
      if (route.query.draft === current.id) return resume(current, route.query.step, route.query.site);
      prompt.value = current; // seed 1.3.1: continue or delete before anything else
    });

    async function continueDraft() { resume(prompt.value, null); }
    async function deleteDraft() {
      if (!(await confirmAction('删除后，该草稿中已录入的信息将无法恢复。确定删除并重新录入？', '删除未完成的录入', '删除'))) return;
      await api.del(`/filing/drafts/${prompt.value.id}`);
      toastSuccess('已删除未完成的录入');
      await start();
    }

    // ---- step 1
    async function saveSubject(next) {
      busy.value = true;
      try {
        const d = await f.run(() => api.put(`/filing/drafts/${draft.value.id}/subject`, subjectPayload(subject)));
        if (!d) return; // saved as typed, errors shown beside the fields
        use(d);
        toastSuccess('主体信息已保存');
        if (next) {
          if (back.value === 4) go(4);
          else if (d.websites.length) go(3);
          else editWebsite(null, 1);
        }
      } finally {
        busy.value = false;
      }
    }

    // ---- step 2
    async function saveWebsite() {
      busy.value = true;
      try {
        const path = `/filing/drafts/${draft.value.id}/websites`;
        const body = websitePayload(website.value, 'new');
        let d;
        try {
          d = siteId.value ? await api.put(`${path}/${siteId.value}`, body) : await api.post(path, body);
        } catch (e) {
          // saved even when refused: further saves replace that website instead of adding another
          if (e instanceof ApiError && e.body && e.body.website_id) siteId.value = e.body.website_id;
          f.take(e);
          return;
        }
        f.clear();
        use(d);
        siteId.value = d.website_id || siteId.value;
        toastSuccess('网站信息已保存');
        go(back.value === 4 ? 4 : 3);
      } finally {
        busy.value = false;
      }
    }
    function leaveWebsite() {
      f.clear();
      if (draft.value.websites.length) go(back.value === 4 ? 4 : 3);
      else go(1);
    }

    async function removeWebsite(w) {
      if (!(await confirmAction(`确定删除网站“${(w.data && w.data.name) || '未命名网站'}”？`))) return;
      use(await api.del(`/filing/drafts/${draft.value.id}/websites/${w.id}`));
      if (!draft.value.websites.length) editWebsite(null, 1);
    }

    // ---- step 3
    async function anotherWebsite(yes) {
      if (yes) { editWebsite(null, 3); return; }
      use(await api.put(`/filing/drafts/${draft.value.id}/step`, { another_website: false }));
      go(4);
    }

    // ---- step 4
    async function refresh() { use(await api.get(`/filing/drafts/${draft.value.id}`)); }
    function editSubject(returnTo = 4) { f.clear(); back.value = returnTo; go(1); }
    function returnToReview() { f.clear(); back.value = 3; go(4); }
    async function submit() {
      busy.value = true;
      try {
        const out = await f.run(() => api.post(`/filing/drafts/${draft.value.id}/submit`));
        if (!out) { await refresh(); return; }
        done.value = out;
        draft.value = null;
        step.value = 5;
        router.replace({ query: { step: '5' } });
      } finally {
        busy.value = false;
      }
    }

    // ---- step 5
    async function copyCredentials() {
      const text = `主办者：${done.value.sponsor_name}\n用户名：${done.value.username}\n密码：${done.value.password}`;
      try {
        await navigator.clipboard.writeText(text);
        copied.value = true;
        toastSuccess('已复制用户名和密码');
      } catch (e) {
        toastError('无法访问剪贴板，请手工抄录用户名和密码');
      }
    }
    async function newEntry() {
      done.value = null;
      copied.value = false;
      Object.assign(subject, blankSubject());
      back.value = 3;
      await start();
    }

    const errorsByPart = computed(() => (draft.value ? draft.value.errors : []));
    const siteName = (w) => (w.data && w.data.name) || '未命名网站';
    return {
      STEPS, f, narrow, draft, step, prompt, subject, website, siteId, sitePrefix, busy, done, copied, back, errorsByPart,
      continueDraft, deleteDraft, saveSubject, saveWebsite, leaveWebsite, editWebsite, removeWebsite, anotherWebsite,
      editSubject, returnToReview, submit, copyCredentials, newEntry, fmtTime, siteName, filingFieldLabel, blocked,
      what,
    };
  },
  template: `
  <page-card :title="what">
    <el-result v-if="blocked" icon="info" :title="blocked" data-test="self-filing-blocked">
      <template #extra><router-link to="/my-applications"><el-button type="primary">查看我的备案申请</el-button></router-link></template>
    </el-result>
    <el-dialog :model-value="!!prompt" :title="'您有未完成的' + what" :close-on-click-modal="false" :close-on-press-escape="false"
               :show-close="false" width="min(520px, 95vw)" data-test="draft-prompt">
      <template v-if="prompt">
        <p>上次的录入尚未提交，须选择继续录入或删除后重新录入。</p>
        <detail-view :column="1" :items="[
          { label: '主办单位名称', value: prompt.subject && prompt.subject.name },
          { label: '已录入网站', value: prompt.websites.length + ' 个' },
          { label: '最后保存时间', value: fmtTime(prompt.updated_at) },
        ]" />
      </template>
      <template #footer>
        <el-button type="danger" plain @click="deleteDraft" data-test="draft-delete">删除后重新录入</el-button>
        <el-button type="primary" @click="continueDraft" data-test="draft-continue">继续录入</el-button>
      </template>
    </el-dialog>

    <el-steps v-if="step" :active="step - 1" finish-status="success" align-center class="wizard-steps no-print">
      <el-step v-for="s in STEPS" :key="s" :title="s" />
    </el-steps>

    <section v-if="step === 1" data-test="step-1">
      <el-form :model="subject" :label-position="narrow ? 'top' : 'right'" label-width="170px" class="entry-form">
        <subject-form :model="subject" :f="f" />
      </el-form>
      <form-errors :form="f" :label="filingFieldLabel" />
      <div class="wizard-actions no-print">
        <el-button v-if="back === 4" @click="returnToReview">返回</el-button>
        <el-button :loading="busy" @click="saveSubject(false)">保存</el-button>
        <el-button type="primary" :loading="busy" @click="saveSubject(true)" data-test="next">下一步</el-button>
      </div>
    </section>

    <section v-if="step === 2" data-test="step-2">
      <el-form :model="website" :label-position="narrow ? 'top' : 'right'" label-width="170px" class="entry-form">
        <website-form :model="website" :f="f" :prefix="sitePrefix" :nature="subject.nature" :access="!selfFiling" />
      </el-form>
      <form-errors :form="f" :label="filingFieldLabel" />
      <div class="wizard-actions no-print">
        <el-button @click="leaveWebsite">{{ draft && draft.websites.length ? '返回' : '上一步' }}</el-button>
        <el-button type="primary" :loading="busy" @click="saveWebsite" data-test="next">{{ siteId ? '保存网站' : '下一步' }}</el-button>
      </div>
    </section>

    <section v-if="step === 3" data-test="step-3">
      <h3 class="form-section">已录入的网站（主办单位：{{ subject.name }}）</h3>
      <el-table :data="draft.websites" border empty-text="尚未录入网站">
        <el-table-column type="index" label="序号" width="60" />
        <el-table-column label="网站名称"><template #default="{ row }">{{ siteName(row) }}</template></el-table-column>
        <el-table-column label="网站域名"><template #default="{ row }">{{ ((row.data && row.data.domains) || []).join('、') }}</template></el-table-column>
        <el-table-column label="首页网址"><template #default="{ row }">{{ ((row.data && row.data.home_urls) || []).join('、') }}</template></el-table-column>
        <el-table-column label="操作" width="150" class-name="no-print">
          <template #default="{ row }">
            <el-button text type="primary" @click="editWebsite(row.id, 3)">修改</el-button>
            <el-button text type="danger" @click="removeWebsite(row)">删除</el-button>
          </template>
        </el-table-column>
      </el-table>
      <el-alert type="info" :closable="false" class="another-question" title="该主体是否还开办其他网站？" />
      <div class="wizard-actions no-print">
        <el-button @click="editSubject(3)">修改主体信息</el-button>
        <el-button @click="anotherWebsite(true)" data-test="another-yes">是，继续录入网站</el-button>
        <el-button type="primary" @click="anotherWebsite(false)" data-test="another-no">否，下一步</el-button>
      </div>
    </section>

    <section v-if="step === 4" data-test="step-4">
      <el-alert v-if="errorsByPart.length" type="error" :closable="false" show-icon title="以下信息尚需修改，修改后才能提交" class="form-errors">
        <ul><li v-for="e in errorsByPart" :key="e.field + e.message">{{ filingFieldLabel(e.field) }}：{{ e.message }}</li></ul>
      </el-alert>
      <el-alert v-for="w in draft.warnings" :key="w.field + w.message" type="warning" :closable="false" show-icon :title="w.message" />
      <subject-panel :subject="draft.subject" />
      <div class="no-print"><el-button text type="primary" @click="editSubject(4)">修改主体信息</el-button></div>
      <template v-for="(w, i) in draft.websites" :key="w.id">
        <website-panel :w="w.data" :title="'网站' + (i + 1) + '：' + (w.data.name || '')" />
        <div class="no-print">
          <el-button text type="primary" @click="editWebsite(w.id, 4)">修改</el-button>
          <el-button text type="danger" @click="removeWebsite(w)">删除</el-button>
        </div>
      </template>
      <form-errors :form="f" :label="filingFieldLabel" />
      <div class="wizard-actions no-print">
        <el-button @click="editWebsite(null, 4)">新增网站</el-button>
        <el-button type="primary" :loading="busy" :disabled="!draft.complete" @click="submit" data-test="submit">提交</el-button>
      </div>
    </section>

    <section v-if="step === 5 && done && selfFiling" data-test="step-5">
      <el-result icon="success" title="自主备案已提交" sub-title="已报送省通信管理局审核，可在“我的备案申请”查看办理进度。" />
      <detail-view :column="1" :items="[
        { label: '主办单位名称', value: done.sponsor_name },
        { label: '用户名', value: done.username },
        { label: '状态', value: '已提交管局审核' },
      ]" />
      <p v-if="done.notice" class="hint">{{ done.notice }}</p>
      <div class="wizard-actions no-print">
        <router-link to="/my-applications"><el-button type="primary" data-test="to-my-applications">查看办理进度</el-button></router-link>
      </div>
    </section>
    <section v-if="step === 5 && done && !selfFiling" data-test="step-5">
      <el-result icon="success" title="录入完成" sub-title="已提交，等待接入服务商核实。">
      </el-result>
      <el-alert type="warning" :closable="false" show-icon class="credential-warning"
                title="主办者用户名和密码仅在此显示一次，系统不保存明文密码。请立即复制或抄录，并安全交付主办者。" />
      <detail-view :column="1" :items="[
        { label: '主办单位名称', value: done.sponsor_name },
        { label: '用户名', value: done.username },
        { label: '密码', value: done.password },
      ]" class="credentials" />
      <div class="wizard-actions no-print">
        <el-button type="primary" @click="copyCredentials" data-test="copy">{{ copied ? '已复制' : '复制用户名和密码' }}</el-button>
      </div>
      <template v-if="done.needs_preapproval">
        <h3 class="form-section">前置审批部门联系方式</h3>
        <el-table :data="done.preapproval_contacts" border>
          <el-table-column prop="preapproval_type_name" label="前置审批项" width="160" />
          <el-table-column prop="department" label="审批部门" min-width="180" />
          <el-table-column prop="phone" label="联系电话" width="150" />
          <el-table-column prop="address" label="地址" min-width="200" />
          <el-table-column prop="website" label="网址" min-width="160" />
        </el-table>
      </template>
      <p v-if="done.notice" class="hint">{{ done.notice }}</p>
      <div class="wizard-actions no-print">
        <el-button @click="newEntry" data-test="new-entry">继续录入下一个</el-button>
      </div>
    </section>
    <el-empty v-if="step === 5 && !done && selfFiling" description="自主备案已提交。">
      <router-link to="/my-applications"><el-button type="primary">查看办理进度</el-button></router-link>
    </el-empty>
    <el-empty v-if="step === 5 && !done && !selfFiling" description="本次录入已完成。用户名和密码只显示一次，离开或刷新页面后不再显示。">
      <el-button type="primary" @click="newEntry">开始新的录入</el-button>
    </el-empty>
  </page-card>`,
};
