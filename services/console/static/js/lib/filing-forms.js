// Form parts of filing data (DOMAIN §4): the one implementation used by the entry wizard (代为录入), the
// business pages (新增网站, 新增接入, 变更主体/网站/接入) and the correction page. Each renders form items
// only: the page wraps them in its own <el-form> (label width, label position).
//
//   <subject-form :model="s" :f="f" prefix="subject" [locked] />     主办单位 + 主体负责人 (locked: nature,
//                                                                    certificate and province cannot change)
//   <principal-form :model="p" :f="f" prefix="subject.principal" [legal-rep] />   负责人 (+ 即时通信; legal-rep:
//                                                                    是否为法定代表人 and the legal representative)
//   <website-form :model="w" :f="f" prefix="websites[0]" mode="new" [nature="PERSONAL"] [:access="false"] />
//                      网站 + 网站负责人 (+ 接入信息 in mode new unless :access="false", e.g. a sponsor's own
//                      filing without an access yet; mode change: domains only removable, no access;
//                      nature PERSONAL: only the contents an individual may offer)
//   <access-form :model="a" :f="f" prefix="access" />               接入信息 (prefix '' for a bare Access)
//   <sponsor-fields :model="{username, password}" :f="f" />          权限验证
//
// `model` is a reactive object the part edits in place; `f` is lib/form.js's useFieldErrors(), and each
// field shows the server's errors of its API path (`website.access.ip_ranges[0]`). Models and payloads:
// lib/filing-models.js (re-exported here): build with blankX(), fill() or xFromRecord(); send xPayload(model).
import { hasImAccount, IM_TYPES, isLegalRep } from './filing-models.js';

export * from './filing-models.js';

const { computed, watch } = Vue;

const join = (prefix, path) => (prefix ? `${prefix}.${path}` : path);
const PERSONAL_CONTENT = ['BLOG', 'OTHER']; // DOMAIN §4.3: an individual's website

// 即时通信 and, for an organisation's subject principal (`legal-rep`), the legal representative when the
// principal is not the legal representative (DOMAIN §4.2): its name and ID number only after "否".
const PrincipalExtras = {
  name: 'PrincipalExtras',
  props: { model: { type: Object, required: true }, f: { type: Object, required: true }, prefix: { type: String, default: '' },
    legalRep: Boolean },
  setup(props) {
    const p = (path) => join(props.prefix, path);
    const hasAccount = computed(() => hasImAccount(props.model.im_type));
    const isRep = computed({
      get: () => isLegalRep(props.model),
      set: (v) => { props.model.is_legal_rep = v; },
    });
    // a subject turned personal has no legal representative: what was typed for one is dropped
    watch(() => props.legalRep, (on) => { if (!on && props.model.is_legal_rep === false) props.model.is_legal_rep = true; });
    return { p, hasAccount, isRep, IM_TYPES };
  },
  template: `
  <div class="principal-extras form-grid">
    <el-form-item label="即时通信类型" :error="f.err(p('im_type'))">
      <el-select v-model="model.im_type" clearable placeholder="可不填" style="width: 100%" data-test="im-type">
        <el-option v-for="t in IM_TYPES" :key="t.value" :label="t.label" :value="t.value" />
      </el-select>
    </el-form-item>
    <el-form-item v-if="hasAccount" label="即时通信账号" :error="f.err(p('im_account'))" required>
      <el-input v-model="model.im_account" maxlength="50" :name="p('im_account')"
                :placeholder="model.im_type === 'QQ' ? 'QQ号码（5到12位数字）' : ''" />
    </el-form-item>
    <template v-if="legalRep">
      <el-form-item label="是否为法定代表人" class="full-row">
        <el-radio-group v-model="isRep" data-test="is-legal-rep">
          <el-radio :value="true">是</el-radio>
          <el-radio :value="false">否</el-radio>
        </el-radio-group>
      </el-form-item>
      <template v-if="!isRep">
        <el-form-item label="法定代表人姓名" :error="f.err(p('legal_rep_name'))" required>
          <el-input v-model="model.legal_rep_name" maxlength="50" :name="p('legal_rep_name')" />
        </el-form-item>
        <el-form-item label="法定代表人证件号码" :error="f.err(p('legal_rep_id'))" required>
          <el-input v-model="model.legal_rep_id" maxlength="30" :name="p('legal_rep_id')" placeholder="不能与负责人的相同" />
        </el-form-item>
      </template>
    </template>
  </div>`,
};

const PrincipalForm = {
  name: 'PrincipalForm',
  components: { PrincipalExtras },
  props: { model: { type: Object, required: true }, f: { type: Object, required: true }, prefix: { type: String, default: '' },
    legalRep: Boolean },
  setup(props) {
    const p = (path) => join(props.prefix, path);
    const longTerm = computed({
      get: () => props.model.id_valid_to === 'LONG_TERM',
      set: (on) => { props.model.id_valid_to = on ? 'LONG_TERM' : ''; },
    });
    const validTo = computed({
      get: () => (props.model.id_valid_to === 'LONG_TERM' ? '' : props.model.id_valid_to),
      set: (v) => { props.model.id_valid_to = v || ''; },
    });
    return { p, longTerm, validTo };
  },
  template: `
  <div class="principal-form">
    <div class="form-grid">
      <el-form-item label="负责人姓名" :error="f.err(p('name'))" required>
        <el-input v-model="model.name" maxlength="50" :name="p('name')" /></el-form-item>
      <el-form-item label="证件类型" :error="f.err(p('id_type'))" required>
        <code-select v-model="model.id_type" table="id_types" :clearable="false" /></el-form-item>
      <el-form-item label="证件号码" :error="f.err(p('id_number'))" required>
        <el-input v-model="model.id_number" maxlength="50" :name="p('id_number')" /></el-form-item>
      <el-form-item label="证件有效期起" :error="f.err(p('id_valid_from'))" required>
        <el-date-picker v-model="model.id_valid_from" type="date" value-format="YYYY-MM-DD" placeholder="选择日期"
                        style="width: 100%" /></el-form-item>
      <el-form-item label="证件有效期止" :error="f.err(p('id_valid_to'))" required>
        <div class="valid-to">
          <el-date-picker v-model="validTo" type="date" value-format="YYYY-MM-DD" placeholder="选择日期" :disabled="longTerm" />
          <el-checkbox v-model="longTerm">长期</el-checkbox>
        </div></el-form-item>
      <el-form-item label="手机号码" :error="f.err(p('mobile'))" required>
        <el-input v-model="model.mobile" maxlength="20" :name="p('mobile')" /></el-form-item>
      <el-form-item label="办公电话" :error="f.err(p('office_phone'))">
        <el-input v-model="model.office_phone" maxlength="30" placeholder="如 086-010-87654321-123" :name="p('office_phone')" /></el-form-item>
      <el-form-item label="应急联系电话" :error="f.err(p('emergency_phone'))" required>
        <el-input v-model="model.emergency_phone" maxlength="20" placeholder="手机号码，不能与上面的相同" :name="p('emergency_phone')" /></el-form-item>
      <el-form-item label="电子邮件" :error="f.err(p('email'))" required>
        <el-input v-model="model.email" maxlength="100" :name="p('email')" /></el-form-item>
    </div>
    <principal-extras :model="model" :f="f" :prefix="prefix" :legal-rep="legalRep" />
  </div>`,
};

const AccessForm = {
  name: 'AccessForm',
  props: { model: { type: Object, required: true }, f: { type: Object, required: true }, prefix: { type: String, default: '' } },
  setup(props) {
    const p = (path) => join(props.prefix, path);
    const add = () => props.model.ip_ranges.push({ start_ip: '', end_ip: '' });
    const remove = (i) => props.model.ip_ranges.splice(i, 1);
    return { p, add, remove };
  },
  template: `
  <div class="access-form">
    <el-form-item label="接入方式" :error="f.err(p('access_methods'))" required>
      <code-select v-model="model.access_methods" table="access_methods" multiple data-test="access-methods" />
    </el-form-item>
    <el-form-item label="网站IP地址段" :error="f.err(p('ip_ranges'))" required>
      <div class="list-inputs">
        <div v-for="(r, i) in model.ip_ranges" :key="i" class="list-row">
          <el-input v-model="r.start_ip" maxlength="45" placeholder="起始IP" :name="p('ip_ranges[' + i + '].start_ip')" />
          <span>至</span>
          <el-input v-model="r.end_ip" maxlength="45" placeholder="终止IP（单个地址可不填）" :name="p('ip_ranges[' + i + '].end_ip')" />
          <el-button v-if="model.ip_ranges.length > 1" text type="danger" @click="remove(i)">删除</el-button>
        </div>
        <el-button text type="primary" @click="add">＋ 添加IP地址段</el-button>
      </div>
    </el-form-item>
    <el-form-item label="服务器放置地" :error="f.err(p('server_locations'))" required>
      <code-select v-model="model.server_locations" table="provinces" multiple data-test="server-locations" />
    </el-form-item>
  </div>`,
};

const SubjectForm = {
  name: 'SubjectForm',
  components: { PrincipalForm },
  props: { model: { type: Object, required: true }, f: { type: Object, required: true },
    prefix: { type: String, default: 'subject' }, locked: Boolean },
  setup(props) {
    const p = (path) => join(props.prefix, path);
    // the certificate types depend on the nature: a changed nature clears an unfitting choice
    const certFilter = computed(() => ({ nature: props.model.nature }));
    watch(() => props.model.nature, (now, before) => { if (before && now !== before) props.model.cert_type = ''; });
    const provinces = computed(() => (props.locked && props.model.province ? [props.model.province] : undefined));
    const organisation = computed(() => !!props.model.nature && props.model.nature !== 'PERSONAL');
    return { p, certFilter, provinces, organisation };
  },
  template: `
  <div class="subject-form" data-test="subject-form">
    <h3 class="form-section">主办单位信息</h3>
    <div class="form-grid">
      <el-form-item label="主办单位性质" :error="f.err(p('nature'))" required>
        <code-select v-model="model.nature" table="unit_natures" :clearable="false" :disabled="locked" data-test="nature" />
      </el-form-item>
      <el-form-item label="证件类型" :error="f.err(p('cert_type'))" required>
        <code-select v-model="model.cert_type" table="certificate_types" :filter="certFilter" :clearable="false" :disabled="locked"
                     :placeholder="model.nature ? '请选择' : '请先选择主办单位性质'" data-test="cert-type" />
      </el-form-item>
      <el-form-item label="证件号码" :error="f.err(p('cert_number'))" required>
        <el-input v-model="model.cert_number" maxlength="50" :disabled="locked" :name="p('cert_number')" />
      </el-form-item>
      <el-form-item label="主办单位名称" :error="f.err(p('name'))" required>
        <el-input v-model="model.name" maxlength="100" :name="p('name')" />
      </el-form-item>
    </div>
    <el-form-item label="证件住所" :error="f.err(p('cert_address'))" required>
      <el-input v-model="model.cert_address" maxlength="200" :name="p('cert_address')" />
    </el-form-item>
    <el-form-item label="所属区域" :error="f.err(p('province')) || f.err(p('city')) || f.err(p('county'))" required>
      <region-select v-model:province="model.province" v-model:city="model.city" v-model:county="model.county" :provinces="provinces" />
    </el-form-item>
    <el-form-item label="通信地址" :error="f.err(p('mail_address'))" required>
      <el-input v-model="model.mail_address" maxlength="200" :name="p('mail_address')"
                placeholder="详细地址（不重复省市县），如 花园路8号星辰小区42号楼2单元101室" />
    </el-form-item>
    <div class="form-grid">
      <el-form-item label="投资者或上级主管单位" :error="f.err(p('investor_or_superior'))" required>
        <el-input v-model="model.investor_or_superior" maxlength="100" :name="p('investor_or_superior')" />
      </el-form-item>
      <el-form-item label="备注" :error="f.err(p('remark'))"><el-input v-model="model.remark" maxlength="500" :name="p('remark')" /></el-form-item>
    </div>
    <h3 class="form-section">主体负责人</h3>
    <principal-form :model="model.principal" :f="f" :prefix="p('principal')" :legal-rep="organisation" />
  </div>`,
};

const WebsiteForm = {
  name: 'WebsiteForm',
  components: { PrincipalForm, AccessForm },
  props: { model: { type: Object, required: true }, f: { type: Object, required: true },
    prefix: { type: String, default: 'website' }, mode: { type: String, default: 'new' }, nature: String,
    access: { type: Boolean, default: true } },
  setup(props) {
    const p = (path) => join(props.prefix, path);
    const contentCodes = computed(() => (props.nature === 'PERSONAL' ? PERSONAL_CONTENT : undefined));
    const addUrl = () => props.model.home_urls.push('');
    const removeUrl = (i) => props.model.home_urls.splice(i, 1);
    const addPre = () => props.model.preapprovals.push({ type: '', approval_no: '' });
    const removePre = (i) => props.model.preapprovals.splice(i, 1);
    // "以上都不涉及" is exclusive: choosing it drops the other items
    function preChanged(i) {
      const list = props.model.preapprovals;
      if (list[i].type === 'NONE') props.model.preapprovals = [{ type: 'NONE', approval_no: '' }];
      else props.model.preapprovals = list.filter((x) => x.type !== 'NONE' || x === list[i]);
    }
    return { p, contentCodes, addUrl, removeUrl, addPre, removePre, preChanged };
  },
  template: `
  <div class="website-form" data-test="website-form">
    <h3 class="form-section">网站信息</h3>
    <div class="form-grid">
      <el-form-item label="网站名称" :error="f.err(p('name'))" required>
        <el-input v-model="model.name" maxlength="30" :name="p('name')" />
      </el-form-item>
      <el-form-item label="服务类型" :error="f.err(p('service_type'))" required>
        <code-select v-model="model.service_type" table="service_types" :clearable="false" />
      </el-form-item>
      <el-form-item v-if="mode === 'new'" label="网站域名" :error="f.err(p('domains'))" required>
        <el-input v-model="model.domains[0]" maxlength="253" :name="p('domains[0]')" placeholder="如 example.com（新网站仅一个域名）" />
      </el-form-item>
    </div>
    <el-form-item v-if="mode !== 'new'" label="网站域名" :error="f.err(p('domains'))" required>
      <el-checkbox-group v-model="model.domains">
        <el-checkbox v-for="d in model.allDomains" :key="d" :value="d">{{ d }}</el-checkbox>
      </el-checkbox-group>
      <div class="hint">变更网站时域名只能删除（取消勾选），不能新增；新增域名请办理“新增网站”。</div>
    </el-form-item>
    <el-form-item label="首页网址" :error="f.err(p('home_urls'))" required>
      <div class="list-inputs">
        <div v-for="(u, i) in model.home_urls" :key="i" class="list-row">
          <el-input v-model="model.home_urls[i]" maxlength="300" :name="p('home_urls[' + i + ']')" placeholder="如 www.example.com" />
          <el-button v-if="model.home_urls.length > 1" text type="danger" @click="removeUrl(i)">删除</el-button>
        </div>
        <el-button v-if="model.home_urls.length < 10" text type="primary" @click="addUrl">＋ 添加首页网址</el-button>
      </div>
    </el-form-item>
    <div class="form-grid">
      <el-form-item label="网站服务内容" :error="f.err(p('service_content'))" required>
        <code-select v-model="model.service_content" table="service_content" multiple :codes="contentCodes" data-test="service-content" />
      </el-form-item>
      <el-form-item label="网站语言" :error="f.err(p('languages'))" required>
        <code-select v-model="model.languages" table="languages" multiple />
      </el-form-item>
    </div>
    <el-form-item label="前置审批项" :error="f.err(p('preapprovals'))" required>
      <div class="list-inputs">
        <div v-for="(x, i) in model.preapprovals" :key="i" class="list-row">
          <code-select v-model="x.type" table="preapproval_types" :clearable="false" @change="preChanged(i)" />
          <el-input v-if="x.type && x.type !== 'NONE'" v-model="x.approval_no" maxlength="100" placeholder="审批文号，如 粤-12345号"
                    :name="p('preapprovals[' + i + '].approval_no')" />
          <el-button v-if="model.preapprovals.length > 1" text type="danger" @click="removePre(i)">删除</el-button>
        </div>
        <el-button v-if="model.preapprovals[0] && model.preapprovals[0].type !== 'NONE'" text type="primary" @click="addPre">＋ 添加前置审批项</el-button>
      </div>
    </el-form-item>
    <el-form-item label="备注" :error="f.err(p('remark'))"><el-input v-model="model.remark" maxlength="500" :name="p('remark')" /></el-form-item>
    <h3 class="form-section">网站负责人</h3>
    <el-form-item label="同主体负责人" :error="f.err(p('principal_same_as_subject'))">
      <el-switch v-model="model.principal_same_as_subject" data-test="same-principal" />
    </el-form-item>
    <principal-form v-if="!model.principal_same_as_subject" :model="model.principal" :f="f" :prefix="p('principal')" />
    <template v-if="mode === 'new' && access">
      <h3 class="form-section">接入信息</h3>
      <access-form :model="model.access" :f="f" :prefix="p('access')" />
    </template>
  </div>`,
};

// 权限验证 (seed 1.4.2, 1.4.3): the sponsor's self-filing username and password, when the subject was
// filed by the sponsor itself or through another provider. Errors come as the `sponsor` field.
const SponsorFields = {
  name: 'SponsorFields',
  props: { model: { type: Object, required: true }, f: { type: Object, required: true } },
  template: `
  <div class="sponsor-fields" data-test="sponsor-fields">
    <el-alert type="info" :closable="false" show-icon class="form-errors"
              title="权限验证：该主体为自主备案或由其他接入服务提供者备案，须填写主办者提供给您的用户名和密码。" />
    <div class="form-grid">
      <el-form-item label="主办者用户名" :error="f.err('sponsor.username') || f.err('sponsor')" required>
        <el-input v-model="model.username" maxlength="64" name="sponsor_username" autocomplete="off" />
      </el-form-item>
      <el-form-item label="主办者密码" :error="f.err('sponsor.password')" required>
        <el-input v-model="model.password" type="password" show-password maxlength="128" name="sponsor_password" autocomplete="new-password" />
      </el-form-item>
    </div>
  </div>`,
};

export const FILING_FORMS = { PrincipalExtras, PrincipalForm, AccessForm, SubjectForm, WebsiteForm, SponsorFields };
