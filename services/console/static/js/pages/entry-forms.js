// The entry wizard's forms (DOMAIN §4.1–4.4): subject, principal, website with its access record.
// Each takes the edited `model` (reactive), the field-error helper `f` (lib/form.js) and the API path
// `prefix` of the part (`subject`, `websites[2]`), so the server's errors land beside their fields.
// Models and payloads shared with the business pages: lib/filing-forms.js (blankSubject, blankWebsite,
// subjectPayload, principalPayload).
import { PrincipalExtras, principalPayload } from '../lib/filing-forms.js';

/** `saved` (a draft part, possibly partial or invalid) laid over the empty form. */
export function fill(empty, saved) {
  if (!saved || typeof saved !== 'object') return empty;
  for (const [k, v] of Object.entries(saved)) {
    if (v === null || v === undefined) continue;
    if (empty[k] && typeof empty[k] === 'object' && !Array.isArray(empty[k]) && typeof v === 'object' && !Array.isArray(v)) {
      empty[k] = fill(empty[k], v);
    } else if (Array.isArray(empty[k]) && Array.isArray(v) && v.length === 0 && empty[k].length && typeof empty[k][0] === 'string') {
      empty[k] = ['']; // keep one input row for lists of texts
    } else {
      empty[k] = typeof v === 'object' ? JSON.parse(JSON.stringify(v)) : v;
    }
  }
  return empty;
}

/** The JSON the API takes for a website form. */
export function websiteBody(w) {
  const texts = (list) => list.map((x) => (x || '').trim()).filter(Boolean);
  return {
    ...w,
    domains: texts(w.domains),
    home_urls: texts(w.home_urls),
    preapprovals: w.preapprovals.map((x) => (x.type === 'NONE' ? { type: 'NONE' } : { type: x.type, approval_no: x.approval_no })),
    principal: w.principal_same_as_subject ? null : principalPayload(w.principal),
    access: {
      ...w.access,
      ip_ranges: w.access.ip_ranges
        .filter((r) => r.start_ip || r.end_ip)
        .map((r) => ({ start_ip: r.start_ip.trim(), end_ip: (r.end_ip || r.start_ip).trim() })),
    },
  };
}

function useNarrow() {
  const narrow = Vue.ref(window.innerWidth < 900);
  const onResize = () => { narrow.value = window.innerWidth < 900; };
  Vue.onMounted(() => window.addEventListener('resize', onResize));
  Vue.onBeforeUnmount(() => window.removeEventListener('resize', onResize));
  return narrow;
}

export const PrincipalFields = {
  name: 'PrincipalFields',
  components: { PrincipalExtras },
  props: { model: Object, f: Object, prefix: String, legalRep: Boolean },
  setup(props) {
    const longTerm = Vue.computed({
      get: () => props.model.id_valid_to === 'LONG_TERM',
      set: (on) => { props.model.id_valid_to = on ? 'LONG_TERM' : ''; },
    });
    const validTo = Vue.computed({
      get: () => (props.model.id_valid_to === 'LONG_TERM' ? '' : props.model.id_valid_to),
      set: (v) => { props.model.id_valid_to = v || ''; },
    });
    return { longTerm, validTo };
  },
  template: `
  <el-row :gutter="16">
    <el-col :xs="24" :md="12"><el-form-item label="负责人姓名" :error="f.err(prefix + '.name')" required>
      <el-input v-model="model.name" maxlength="50" :name="prefix + '.name'" /></el-form-item></el-col>
    <el-col :xs="24" :md="12"><el-form-item label="证件类型" :error="f.err(prefix + '.id_type')" required>
      <code-select v-model="model.id_type" table="id_types" :clearable="false" /></el-form-item></el-col>
    <el-col :xs="24" :md="12"><el-form-item label="证件号码" :error="f.err(prefix + '.id_number')" required>
      <el-input v-model="model.id_number" maxlength="50" :name="prefix + '.id_number'" /></el-form-item></el-col>
    <el-col :xs="24" :md="12"><el-form-item label="证件有效期起" :error="f.err(prefix + '.id_valid_from')" required>
      <el-date-picker v-model="model.id_valid_from" type="date" value-format="YYYY-MM-DD" placeholder="选择日期"
                      style="width: 100%" /></el-form-item></el-col>
    <el-col :xs="24" :md="12"><el-form-item label="证件有效期止" :error="f.err(prefix + '.id_valid_to')" required>
      <div class="valid-to">
        <el-date-picker v-model="validTo" type="date" value-format="YYYY-MM-DD" placeholder="选择日期"
                        :disabled="longTerm" />
        <el-checkbox v-model="longTerm">长期</el-checkbox>
      </div></el-form-item></el-col>
    <el-col :xs="24" :md="12"><el-form-item label="手机号码" :error="f.err(prefix + '.mobile')" required>
      <el-input v-model="model.mobile" maxlength="11" :name="prefix + '.mobile'" /></el-form-item></el-col>
    <el-col :xs="24" :md="12"><el-form-item label="办公电话" :error="f.err(prefix + '.office_phone')">
      <el-input v-model="model.office_phone" maxlength="30" placeholder="如 086-010-87654321-123" :name="prefix + '.office_phone'" /></el-form-item></el-col>
    <el-col :xs="24" :md="12"><el-form-item label="应急联系电话" :error="f.err(prefix + '.emergency_phone')" required>
      <el-input v-model="model.emergency_phone" maxlength="11" :name="prefix + '.emergency_phone'" /></el-form-item></el-col>
    <el-col :xs="24" :md="12"><el-form-item label="电子邮件" :error="f.err(prefix + '.email')" required>
      <el-input v-model="model.email" maxlength="100" :name="prefix + '.email'" /></el-form-item></el-col>
  </el-row>
  <principal-extras :model="model" :f="f" :prefix="prefix" :legal-rep="legalRep" />`,
};

export const SubjectForm = {
  name: 'SubjectForm',
  components: { PrincipalFields },
  props: { model: Object, f: Object },
  setup(props) {
    const narrow = useNarrow();
    // the certificate types depend on the nature: a changed nature clears an unfitting choice
    const natureFilter = Vue.computed(() => ({ nature: props.model.nature }));
    Vue.watch(() => props.model.nature, (now, before) => { if (before && now !== before) props.model.cert_type = ''; });
    const organisation = Vue.computed(() => !!props.model.nature && props.model.nature !== 'PERSONAL');
    return { narrow, natureFilter, organisation };
  },
  template: `
  <el-form :model="model" :label-position="narrow ? 'top' : 'right'" label-width="170px" class="entry-form" data-test="subject-form">
    <h3 class="form-section">主办单位信息</h3>
    <el-row :gutter="16">
      <el-col :xs="24" :md="12"><el-form-item label="主办单位性质" :error="f.err('subject.nature')" required>
        <code-select v-model="model.nature" table="unit_natures" data-test="nature" /></el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="证件类型" :error="f.err('subject.cert_type')" required>
        <code-select v-model="model.cert_type" table="certificate_types" :filter="natureFilter"
                     :placeholder="model.nature ? '请选择' : '请先选择主办单位性质'" data-test="cert-type" /></el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="证件号码" :error="f.err('subject.cert_number')" required>
        <el-input v-model="model.cert_number" maxlength="50" name="subject.cert_number" /></el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="主办单位名称" :error="f.err('subject.name')" required>
        <el-input v-model="model.name" maxlength="100" name="subject.name" /></el-form-item></el-col>
      <el-col :span="24"><el-form-item label="证件住所" :error="f.err('subject.cert_address')" required>
        <el-input v-model="model.cert_address" maxlength="200" name="subject.cert_address" /></el-form-item></el-col>
      <el-col :span="24"><el-form-item label="所属区域" required
          :error="f.err('subject.province') || f.err('subject.city') || f.err('subject.county')">
        <region-select v-model:province="model.province" v-model:city="model.city" v-model:county="model.county" />
      </el-form-item></el-col>
      <el-col :span="24"><el-form-item label="通信地址" :error="f.err('subject.mail_address')" required>
        <el-input v-model="model.mail_address" maxlength="200" name="subject.mail_address"
                  placeholder="详细地址（不重复省市县），如 花园路8号星辰小区42号楼2单元101室" /></el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="投资者或上级主管单位" :error="f.err('subject.investor_or_superior')" required>
        <el-input v-model="model.investor_or_superior" maxlength="100" name="subject.investor_or_superior" /></el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="备注" :error="f.err('subject.remark')">
        <el-input v-model="model.remark" maxlength="500" name="subject.remark" /></el-form-item></el-col>
    </el-row>
    <h3 class="form-section">主体负责人</h3>
    <principal-fields :model="model.principal" :f="f" prefix="subject.principal" :legal-rep="organisation" />
  </el-form>`,
};

export const WebsiteForm = {
  name: 'WebsiteForm',
  components: { PrincipalFields },
  props: { model: Object, f: Object, prefix: String, nature: String },
  setup(props) {
    const narrow = useNarrow();
    const p = (s) => `${props.prefix}.${s}`;
    const personal = Vue.computed(() => props.nature === 'PERSONAL');
    const personalContent = ['BLOG', 'OTHER'];
    function addUrl() { props.model.home_urls.push(''); }
    function removeUrl(i) { props.model.home_urls.splice(i, 1); }
    function addRange() { props.model.access.ip_ranges.push({ start_ip: '', end_ip: '' }); }
    function removeRange(i) { props.model.access.ip_ranges.splice(i, 1); }
    function addPre() { props.model.preapprovals.push({ type: '', approval_no: '' }); }
    function removePre(i) { props.model.preapprovals.splice(i, 1); }
    // "以上都不涉及" is exclusive: choosing it drops the other items
    function preChanged(i) {
      if (props.model.preapprovals[i].type === 'NONE') props.model.preapprovals = [{ type: 'NONE', approval_no: '' }];
      else props.model.preapprovals = props.model.preapprovals.filter((x) => x.type !== 'NONE' || x === props.model.preapprovals[i]);
    }
    return { narrow, p, personal, personalContent, addUrl, removeUrl, addRange, removeRange, addPre, removePre, preChanged };
  },
  template: `
  <el-form :model="model" :label-position="narrow ? 'top' : 'right'" label-width="170px" class="entry-form" data-test="website-form">
    <h3 class="form-section">网站信息</h3>
    <el-row :gutter="16">
      <el-col :xs="24" :md="12"><el-form-item label="网站名称" :error="f.err(p('name'))" required>
        <el-input v-model="model.name" maxlength="30" :name="p('name')" /></el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="服务类型" :error="f.err(p('service_type'))" required>
        <code-select v-model="model.service_type" table="service_types" :clearable="false" /></el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="网站域名" :error="f.err(p('domains'))" required>
        <el-input v-model="model.domains[0]" maxlength="253" :name="p('domains[0]')" placeholder="如 example.com（新网站仅一个域名）" />
      </el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="首页网址" :error="f.err(p('home_urls'))" required>
        <div class="list-inputs">
          <div v-for="(u, i) in model.home_urls" :key="i" class="list-row">
            <el-input v-model="model.home_urls[i]" maxlength="300" :name="p('home_urls[' + i + ']')" placeholder="如 www.example.com" />
            <el-button v-if="model.home_urls.length > 1" text type="danger" @click="removeUrl(i)">删除</el-button>
          </div>
          <el-button v-if="model.home_urls.length < 10" text type="primary" @click="addUrl">＋ 添加首页网址</el-button>
        </div></el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="网站服务内容" :error="f.err(p('service_content'))" required>
        <code-select v-model="model.service_content" table="service_content" multiple
                     :codes="personal ? personalContent : undefined" data-test="service-content" /></el-form-item></el-col>
      <el-col :xs="24" :md="12"><el-form-item label="网站语言" :error="f.err(p('languages'))" required>
        <code-select v-model="model.languages" table="languages" multiple /></el-form-item></el-col>
      <el-col :span="24"><el-form-item label="前置审批项" :error="f.err(p('preapprovals'))" required>
        <div class="list-inputs">
          <div v-for="(x, i) in model.preapprovals" :key="i" class="list-row">
            <code-select v-model="x.type" table="preapproval_types" :clearable="false" @change="preChanged(i)" />
            <el-input v-if="x.type && x.type !== 'NONE'" v-model="x.approval_no" maxlength="100" placeholder="审批文号，如 粤-12345号" />
            <el-button v-if="model.preapprovals.length > 1" text type="danger" @click="removePre(i)">删除</el-button>
          </div>
          <el-button v-if="model.preapprovals[0] && model.preapprovals[0].type !== 'NONE'" text type="primary" @click="addPre">＋ 添加前置审批项</el-button>
        </div></el-form-item></el-col>
      <el-col :span="24"><el-form-item label="备注" :error="f.err(p('remark'))">
        <el-input v-model="model.remark" maxlength="500" :name="p('remark')" /></el-form-item></el-col>
    </el-row>
    <h3 class="form-section">网站负责人</h3>
    <el-form-item label="同主体负责人" :error="f.err(p('principal_same_as_subject'))">
      <el-switch v-model="model.principal_same_as_subject" data-test="same-principal" />
    </el-form-item>
    <principal-fields v-if="!model.principal_same_as_subject" :model="model.principal" :f="f" :prefix="p('principal')" />
    <h3 class="form-section">接入信息</h3>
    <el-row :gutter="16">
      <el-col :span="24"><el-form-item label="接入方式" :error="f.err(p('access.access_methods'))" required>
        <code-select v-model="model.access.access_methods" table="access_methods" multiple data-test="access-methods" /></el-form-item></el-col>
      <el-col :span="24"><el-form-item label="网站IP地址段" :error="f.err(p('access.ip_ranges'))" required>
        <div class="list-inputs">
          <div v-for="(r, i) in model.access.ip_ranges" :key="i" class="list-row">
            <el-input v-model="r.start_ip" maxlength="45" placeholder="起始IP" :name="p('access.ip_ranges[' + i + '].start_ip')" />
            <span>至</span>
            <el-input v-model="r.end_ip" maxlength="45" placeholder="终止IP（单个地址可不填）" :name="p('access.ip_ranges[' + i + '].end_ip')" />
            <el-button v-if="model.access.ip_ranges.length > 1" text type="danger" @click="removeRange(i)">删除</el-button>
          </div>
          <el-button text type="primary" @click="addRange">＋ 添加IP地址段</el-button>
        </div></el-form-item></el-col>
      <el-col :span="24"><el-form-item label="服务器放置地" :error="f.err(p('access.server_locations'))" required>
        <code-select v-model="model.access.server_locations" table="provinces" multiple data-test="server-locations" /></el-form-item></el-col>
    </el-row>
  </el-form>`,
};
