// A verification case: the whole application as submitted (any version), its history, and the
// action of the one who holds it now — the provider's verification (核实: pass to the bureau or
// return, with the opinion), the bureau's pre-approval result and decision (approve → numbers;
// reject with a reason). After an action a result page with "返回页面" back to the list (seed 1.3.4).
import { api, ApiError, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';
import { session } from '../lib/session.js';
import { RECORD_VIEWS } from '../lib/record-views.js';

const { ref, reactive, computed, onMounted } = Vue;
const ACTORS = { provider: '接入服务提供者', bureau: '管局', admin: '系统管理员', sponsor: '网站主办者', system: '系统' };
const { useRoute, useRouter } = VueRouter;

export default {
  name: 'CasePage',
  components: RECORD_VIEWS,
  setup() {
    const route = useRoute();
    const router = useRouter();
    const id = route.params.id;
    const c = ref(null);
    const missing = ref(false);
    const done = ref(null); // the answer of the action just taken: shows the result page
    const role = session.user ? session.user.role : '';
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const verify = reactive({ result: 'pass', opinion: '' });
    const decision = reactive({ decision: 'approve', reason: '' });
    const pre = reactive({ result: 'pass', note: '' });

    async function load(version) {
      try {
        c.value = await api.get(`/verification/cases/${id}`, { query: version ? { version } : {} });
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) missing.value = true;
        else throw e;
      }
    }
    onMounted(() => load(route.query.version));

    const current = computed(() => c.value && c.value.shown_version === c.value.version);
    const canVerify = computed(() => role === 'provider' && c.value && current.value
      && c.value.status === 'PENDING_VERIFICATION');
    const canDecide = computed(() => role === 'bureau' && c.value && current.value
      && c.value.status === 'SUBMITTED_TO_BUREAU');
    const canPre = computed(() => role === 'bureau' && c.value && current.value
      && c.value.status === 'PREAPPROVAL_PENDING');
    const canCorrect = computed(() => role === 'provider' && c.value && current.value
      && ['VERIFY_RETURNED', 'REJECTED'].includes(c.value.status) && !c.value.type.startsWith('CANCEL_'));
    const listPath = role === 'provider' ? '/verify' : '/review';
    const numbers = computed(() => (c.value ? c.value.website_numbers : []));

    function showVersion(v) {
      router.replace({ query: v === c.value.version ? {} : { version: String(v) } });
      load(v);
    }

    async function act(path, body, message) {
      const out = await send(() => api.post(`/verification/cases/${id}/${path}`, body));
      if (out) {
        c.value = out;
        done.value = message(out);
        toastSuccess(done.value.title);
      } else if (f.state.detail && !f.state.errors.length) {
        await load(); // a 409 (somebody acted first): show the case as it is now
      }
    }
    const doVerify = () => act('verification', { result: verify.result, opinion: verify.opinion, version: c.value.version }, (out) => ({
      title: verify.result === 'pass' ? '核实通过，已提交管局审核' : '已退回，接入服务提供者可修改后重新提交',
      sub: `当前状态：${out.status_name}`,
    }));
    const doDecide = () => act('decision', { decision: decision.decision, reason: decision.reason, version: c.value.version }, (out) => ({
      title: decision.decision === 'approve' ? '审核通过' : '已驳回',
      sub: out.status === 'APPROVED'
        ? ['主体备案号：' + (out.subject_no || '—'), ...out.website_numbers.map((n) => '网站备案号：' + n.website_no)].join('　')
        : `驳回原因：${out.decision_reason || decision.reason}`,
    }));
    const doPre = () => act('preapproval', { result: pre.result, note: pre.note }, (out) => ({
      title: pre.result === 'pass' ? '前置审批通过，回到管局审核' : '前置审批未通过，申请已驳回',
      sub: `当前状态：${out.status_name}`,
    }));
    function back() { router.push(listPath); }
    function stay() { done.value = null; }

    return { ACTORS, role, canCorrect, c, missing, done, busy, f, verify, decision, pre, canVerify, canDecide, canPre, numbers, current,
      showVersion, doVerify, doDecide, doPre, back, stay, fmtTime, listPath };
  },
  template: `
  <page-card :title="c ? (c.type_name + '：' + c.subject_name) : '申请详情'">
    <template #actions>
      <el-button @click="back">返回列表</el-button>
    </template>
    <el-empty v-if="missing" description="申请不存在或无权查看" />
    <el-result v-else-if="done" icon="success" :title="done.title" :sub-title="done.sub" data-test="case-result">
      <template #extra>
        <el-button type="primary" @click="back" data-test="back-to-list">返回页面</el-button>
        <el-button @click="stay">查看申请</el-button>
      </template>
    </el-result>
    <div v-else-if="c" class="case-page">
      <el-descriptions :column="3" border class="detail-view case-head">
        <el-descriptions-item label="状态"><status-tag :status="c.status" :name="c.status_name" data-test="case-status" /></el-descriptions-item>
        <el-descriptions-item label="申请类型">{{ c.type_name }}</el-descriptions-item>
        <el-descriptions-item label="接入服务提供者">{{ c.provider_id ? (c.provider_name || c.provider_id) : '无（主办者自主备案，不经接入服务提供者核实）' }}</el-descriptions-item>
        <el-descriptions-item label="省份">{{ c.province_name }}</el-descriptions-item>
        <el-descriptions-item label="首次提交">{{ fmtTime(c.first_submitted_at) }}</el-descriptions-item>
        <el-descriptions-item label="涉及前置审批">{{ c.needs_preapproval ? '是' : '否' }}</el-descriptions-item>
        <el-descriptions-item v-if="c.subject_no" label="主体备案号"><span data-test="subject-no">{{ c.subject_no }}</span></el-descriptions-item>
        <el-descriptions-item v-for="n in numbers" :key="n.website_id" label="网站备案号"><span data-test="website-no">{{ n.website_no }}</span></el-descriptions-item>
        <el-descriptions-item v-if="c.retired_numbers.length" label="注销的备案号">{{ c.retired_numbers.join('、') }}</el-descriptions-item>
        <el-descriptions-item v-if="c.decision_reason" :label="['VERIFY_RETURNED', 'REJECTED'].includes(c.status) ? '退回/驳回原因' : '审核意见'" :span="3">{{ c.decision_reason }}</el-descriptions-item>
      </el-descriptions>
      <div v-if="c.versions.length > 1" class="versions no-print">
        <span class="hint">申请版本：</span>
        <el-radio-group :model-value="c.shown_version" size="small" @update:model-value="showVersion">
          <el-radio-button v-for="v in c.versions" :key="v.version" :value="v.version">
            第{{ v.version }}版（{{ fmtTime(v.submitted_at) }}）
          </el-radio-button>
        </el-radio-group>
      </div>
      <el-alert v-if="!current" type="info" :closable="false" show-icon class="form-errors"
                :title="'正在查看第' + c.shown_version + '版（历史版本），当前为第' + c.version + '版'" />

      <el-alert v-if="canCorrect" type="warning" :closable="false" show-icon class="form-errors no-print"
                title="该申请已被退回：可修改后重新提交（新版本），或放弃该申请。">
        <el-button type="primary" size="small" @click="$router.push('/applications/' + c.application_id + '/correct')"
                   data-test="correct">更正并重新提交</el-button>
      </el-alert>
      <el-alert v-if="role === 'provider' && current && ['VERIFY_RETURNED', 'REJECTED'].includes(c.status) && c.type.startsWith('CANCEL_')"
                type="warning" :closable="false" show-icon class="form-errors no-print"
                title="注销申请被退回后，请在“注销主体申请/注销网站申请”中再次提出或删除。" />

      <el-card v-if="canVerify" shadow="never" class="action-card no-print" data-test="verify-form">
        <template #header>核实意见</template>
        <el-form label-width="90px" @submit.prevent="doVerify">
          <el-form-item label="核实结果" :error="f.err('result')">
            <el-radio-group v-model="verify.result">
              <el-radio value="pass" data-test="verify-pass">核实通过，提交管局</el-radio>
              <el-radio value="return" data-test="verify-return">退回修改</el-radio>
            </el-radio-group>
          </el-form-item>
          <el-form-item label="核实意见" :error="f.err('opinion')" required>
            <el-input v-model="verify.opinion" type="textarea" :rows="3" maxlength="500" show-word-limit
                      name="opinion" placeholder="请填写核实意见（必填）" />
          </el-form-item>
          <form-errors :form="f" />
          <el-form-item>
            <el-button type="primary" native-type="submit" :loading="busy" data-test="verify-submit">核实</el-button>
          </el-form-item>
        </el-form>
      </el-card>

      <el-card v-if="canPre" shadow="never" class="action-card no-print" data-test="preapproval-form">
        <template #header>前置审批结果</template>
        <el-form label-width="90px" @submit.prevent="doPre">
          <el-form-item label="审批结果" :error="f.err('result')">
            <el-radio-group v-model="pre.result">
              <el-radio value="pass">前置审批通过</el-radio>
              <el-radio value="fail">前置审批未通过（驳回申请）</el-radio>
            </el-radio-group>
          </el-form-item>
          <el-form-item label="说明" :error="f.err('note')" :required="pre.result === 'fail'">
            <el-input v-model="pre.note" type="textarea" :rows="3" maxlength="500" show-word-limit name="note"
                      :placeholder="pre.result === 'fail' ? '未通过时必填，作为驳回原因' : '可选'" />
          </el-form-item>
          <form-errors :form="f" />
          <el-form-item>
            <el-button type="primary" native-type="submit" :loading="busy" data-test="preapproval-submit">提交</el-button>
          </el-form-item>
        </el-form>
      </el-card>

      <el-card v-if="canDecide" shadow="never" class="action-card no-print" data-test="decision-form">
        <template #header>管局审核</template>
        <el-form label-width="90px" @submit.prevent="doDecide">
          <el-form-item label="审核结果" :error="f.err('decision')">
            <el-radio-group v-model="decision.decision">
              <el-radio value="approve" data-test="decision-approve">审核通过（发放备案号）</el-radio>
              <el-radio value="reject" data-test="decision-reject">驳回</el-radio>
            </el-radio-group>
          </el-form-item>
          <el-form-item :label="decision.decision === 'reject' ? '驳回原因' : '审核意见'" :error="f.err('reason')"
                        :required="decision.decision === 'reject'">
            <el-input v-model="decision.reason" type="textarea" :rows="3" maxlength="500" show-word-limit name="reason"
                      :placeholder="decision.decision === 'reject' ? '驳回时必填，将告知接入服务提供者' : '可选'" />
          </el-form-item>
          <form-errors :form="f" />
          <el-form-item>
            <el-button type="primary" native-type="submit" :loading="busy" data-test="decision-submit">提交审核结果</el-button>
          </el-form-item>
        </el-form>
      </el-card>

      <application-view :app="c.application" />

      <h3 class="section-title">办理记录</h3>
      <el-timeline class="history">
        <el-timeline-item v-for="(h, i) in c.history" :key="i"
                          :timestamp="fmtTime(h.at) + '　' + (h.actor_name || ACTORS[h.actor_role] || '系统') + '　第' + h.version + '版'">
          <strong>{{ h.action_name }}</strong>
          <span v-if="h.text" class="pre">：{{ h.text }}</span>
        </el-timeline-item>
      </el-timeline>
    </div>
    <el-skeleton v-else :rows="8" animated />
  </page-card>`,
};
