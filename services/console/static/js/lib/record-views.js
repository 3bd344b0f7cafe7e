// Read-only views of submitted applications (snapshots: masked ID numbers, IP ranges as "a-b") and of
// filed records (GET /subjects/{id}, /websites/{id}), shared by the case, record and business pages
// and the entry wizard's draft (FilingData as it is edited: unmasked, IP ranges as objects):
//
//   <application-view :app="case.application" />   a submitted application (snapshot): subject, websites,
//                                                    access, and what a change or cancellation asks for
//   <subject-panel :subject="s" />  <principal-panel :p="p" />  <website-panel :w="w" />  <access-panel :a="a" />
//   <status-tag :status="'APPROVED'" :name="row.status_name" />   an application status as a coloured tag
//   entityStatusName('website', 'NO_ACCESS') → 空壳网站（无接入）
//   filingFieldLabel('websites[0].domains[0]') → '网站1·网站域名'   an API error path as Chinese labels
//
// Import `RECORD_VIEWS` into a page's `components`. Codes are shown by their Chinese names.
import { codeName, codeNames, regionPath } from './codes.js';
import { fmtDate, fmtTime } from './format.js';
import { imTypeName } from './filing-models.js';

const { computed } = Vue;

// Statuses of subjects, websites, accesses and domains: no code table holds them (DOMAIN §7.4).
const ENTITY_STATUS = {
  PENDING: '审核中（未发号）',
  ACTIVE: '正常',
  NO_ACCESS: '空壳网站（无接入）',
  SHELL: '空壳主体',
  BLACKLISTED: '已列入黑名单',
  CANCELLED: '已注销',
  WITHDRAWN: '已撤回',
};
const ACCESS_STATUS = { ACTIVE: '正常', CANCELLED: '已取消接入', PENDING: '待审核' };

export function entityStatusName(kind, status) {
  if (kind === 'access' || kind === 'domain') return ACCESS_STATUS[status] || ENTITY_STATUS[status] || status || '';
  if (kind === 'subject' && status === 'NO_ACCESS') return '空壳主体（无接入）';
  return ENTITY_STATUS[status] || status || '';
}

export const ENTITY_STATUS_OPTIONS = (kind) => {
  const keys = kind === 'subject'
    ? ['PENDING', 'ACTIVE', 'SHELL', 'NO_ACCESS', 'BLACKLISTED', 'CANCELLED', 'WITHDRAWN']
    : ['PENDING', 'ACTIVE', 'NO_ACCESS', 'BLACKLISTED', 'CANCELLED', 'WITHDRAWN'];
  return keys.map((k) => ({ value: k, label: entityStatusName(kind, k) }));
};

export const FILING_METHODS = [{ value: 'PROXY', label: '代为备案' }, { value: 'SELF', label: '自主备案' }];
export const filingMethodName = (m) => (m === 'SELF' ? '自主备案' : m === 'PROXY' ? '代为备案' : m || '');

const TAG_TYPES = {
  PENDING_VERIFICATION: 'warning', VERIFY_RETURNED: 'danger', SUBMITTED_TO_BUREAU: 'primary',
  PREAPPROVAL_PENDING: 'primary', APPROVED: 'success', REJECTED: 'danger', ABANDONED: 'info',
  ACTIVE: 'success', PENDING: 'warning', NO_ACCESS: 'warning', SHELL: 'warning', BLACKLISTED: 'danger',
  CANCELLED: 'info', WITHDRAWN: 'info', APPLIED: 'warning', NOT_APPLIED: 'info', DELETED: 'info',
};

const StatusTag = {
  name: 'StatusTag',
  props: { status: String, name: String, table: { type: String, default: 'application_statuses' } },
  setup(props) {
    const text = computed(() => props.name || codeName(props.table, props.status));
    const type = computed(() => TAG_TYPES[props.status] || 'info');
    return { text, type };
  },
  template: `<el-tag :type="type" disable-transitions>{{ text }}</el-tag>`,
};

const idValidity = (p) => {
  const to = p.id_valid_to === 'LONG_TERM' ? '长期' : fmtDate(p.id_valid_to);
  return p.id_valid_from || p.id_valid_to ? `${fmtDate(p.id_valid_from) || '—'} 至 ${to || '—'}` : '';
};

export function principalItems(p) {
  if (!p) return [];
  return [
    { label: '姓名', value: p.name },
    { label: '证件类型', value: codeName('id_types', p.id_type) },
    { label: '证件号码', value: p.id_number_masked || p.id_number },
    { label: '证件有效期', value: idValidity(p) },
    { label: '手机号码', value: p.mobile },
    { label: '办公电话', value: p.office_phone },
    { label: '应急联系电话', value: p.emergency_phone },
    { label: '电子邮件', value: p.email },
    // optional (DOMAIN §4.2): shown when filled in
    ...(p.im_type && p.im_type !== 'NONE' ? [{ label: '即时通信', value: `${imTypeName(p.im_type)}：${p.im_account || '—'}` }] : []),
    ...(p.legal_rep_name || p.legal_rep_id || p.legal_rep_id_masked ? [
      { label: '法定代表人姓名', value: p.legal_rep_name },
      { label: '法定代表人证件号码', value: p.legal_rep_id_masked || p.legal_rep_id },
    ] : []),
  ];
}

export function subjectItems(s) {
  if (!s) return [];
  return [
    { label: '主办单位名称', value: s.name },
    ...('subject_no' in s ? [{ label: '主体备案号', value: s.subject_no }] : []), // a draft has no number yet
    { label: '主办单位性质', value: codeName('unit_natures', s.nature) },
    // a personal subject's certificate is an identity document (id_types), an organisation's is not
    { label: '证件类型', value: codeName(s.nature === 'PERSONAL' ? 'id_types' : 'certificate_types', s.cert_type) },
    { label: '证件号码', value: s.cert_number },
    { label: '所属区域', value: regionPath(s.province, s.city, s.county) },
    { label: '证件住所', value: s.cert_address, span: 2 },
    { label: '通信地址', value: s.mail_address, span: 2 },
    { label: '投资者或上级主管单位', value: s.investor_or_superior },
    { label: '备注', value: s.remark },
  ];
}

function preapprovalText(list) {
  return (list || []).map((p) => {
    const name = codeName('preapproval_types', p.type);
    return p.approval_no ? `${name}（${p.approval_no}）` : name;
  }).join('、');
}

const domainText = (list) => (list || []).map((d) => (typeof d === 'string' ? d
  : d.unicode && d.unicode !== d.domain ? `${d.unicode}（${d.domain}）` : d.domain)).join('、');

export function websiteItems(w) {
  if (!w) return [];
  return [
    { label: '网站名称', value: w.name },
    ...('website_no' in w ? [{ label: '网站备案号', value: w.website_no }] : []),
    { label: '服务类型', value: codeName('service_types', w.service_type || 'WEBSITE') },
    { label: '网站域名', value: domainText(w.domains) },
    { label: '首页网址', value: (w.home_urls || []).join('、'), span: 2 },
    { label: '服务内容', value: codeNames('service_content', w.service_content) },
    { label: '网站语言', value: codeNames('languages', w.languages) },
    { label: '前置审批', value: preapprovalText(w.preapprovals), span: 2 },
    { label: '备注', value: w.remark, span: 2 },
  ];
}

export function accessItems(a) {
  if (!a) return [];
  const ips = (a.ip_ranges || []).map((r) => (typeof r === 'string' ? r : `${r.start_ip}-${r.end_ip}`))
    .map((r) => { const [x, y] = r.split('-'); return x === y ? x : r; });
  return [
    { label: '接入方式', value: codeNames('access_methods', a.access_methods) },
    { label: '服务器放置地', value: codeNames('provinces', a.server_locations) },
    { label: '网站IP地址', value: ips.join('；'), span: 2 },
  ];
}

const PrincipalPanel = {
  name: 'PrincipalPanel',
  props: { p: Object, title: { type: String, default: '负责人' } },
  setup(props) { return { items: computed(() => principalItems(props.p)) }; },
  template: `<detail-view v-if="p" :title="title" :items="items" />`,
};

const SubjectPanel = {
  name: 'SubjectPanel',
  props: { subject: Object, title: { type: String, default: '主办单位信息' } },
  setup(props) { return { items: computed(() => subjectItems(props.subject)) }; },
  template: `
  <div class="subject-panel">
    <detail-view :title="title" :items="items" />
    <principal-panel :p="subject && subject.principal" title="主体负责人" />
  </div>`,
};

const AccessPanel = {
  name: 'AccessPanel',
  props: { a: Object, title: { type: String, default: '接入信息' } },
  setup(props) { return { items: computed(() => accessItems(props.a)) }; },
  template: `<detail-view v-if="a" :title="title" :items="items" />`,
};

const WebsitePanel = {
  name: 'WebsitePanel',
  props: { w: Object, title: String, subjectPrincipal: Object },
  setup(props) {
    const items = computed(() => websiteItems(props.w));
    return { items };
  },
  template: `
  <div class="website-panel">
    <detail-view :title="title || ('网站：' + w.name)" :items="items" />
    <principal-panel v-if="w.principal && !w.principal_same_as_subject" :p="w.principal" title="网站负责人" />
    <p v-else class="hint">网站负责人：同主体负责人</p>
    <access-panel v-if="w.access" :a="w.access" />
  </div>`,
};

// Labels of the fields a change lists as {field: [old, new]}.
const FIELD_LABELS = {
  name: '名称', nature: '主办单位性质', cert_type: '证件类型', cert_number: '证件号码', cert_address: '证件住所',
  province: '省', city: '市', county: '县/区', mail_address: '通信地址', investor_or_superior: '投资者或上级主管单位',
  remark: '备注', principal: '负责人', domains: '网站域名', home_urls: '首页网址', service_content: '服务内容',
  preapprovals: '前置审批', languages: '网站语言', principal_same_as_subject: '网站负责人同主体负责人',
  service_type: '服务类型', access_methods: '接入方式', ip_ranges: '网站IP地址', server_locations: '服务器放置地',
  id_type: '证件类型', id_number_masked: '证件号码', id_valid_from: '证件有效期起', id_valid_to: '证件有效期止',
  mobile: '手机号码', office_phone: '办公电话', emergency_phone: '应急联系电话', email: '电子邮件',
  im_type: '即时通信类型', im_account: '即时通信账号', legal_rep_name: '法定代表人姓名', legal_rep_id: '法定代表人证件号码',
  legal_rep_id_masked: '法定代表人证件号码',
};

function valueText(field, v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? '是' : '否';
  const tables = { nature: 'unit_natures', cert_type: 'certificate_types', service_content: 'service_content',
    languages: 'languages', access_methods: 'access_methods', server_locations: 'provinces', id_type: 'id_types',
    service_type: 'service_types' };
  if (tables[field]) return Array.isArray(v) ? codeNames(tables[field], v) : codeName(tables[field], v);
  if (['province', 'city', 'county'].includes(field)) return regionPath(v);
  if (field === 'preapprovals') return preapprovalText(v);
  if (field === 'id_valid_to' && v === 'LONG_TERM') return '长期';
  if (field === 'im_type') return imTypeName(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : x)).join('、');
  if (typeof v === 'object') {
    return Object.entries(v).filter(([k]) => FIELD_LABELS[k])
      .map(([k, x]) => `${FIELD_LABELS[k]}：${valueText(k, x)}`).join('；');
  }
  return String(v);
}

/** Rows {field, label, before, after} of a {field: [old, new]} diff (a principal's fields one by one). */
export function diffRows(diff, prefix = '') {
  const rows = [];
  for (const [field, pair] of Object.entries(diff || {})) {
    if (!Array.isArray(pair) || pair.length !== 2) continue;
    const [a, b] = pair;
    if (field === 'principal' && a && b && typeof a === 'object' && typeof b === 'object') {
      const sub = {};
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) sub[k] = [a[k], b[k]];
      }
      rows.push(...diffRows(sub, '负责人'));
      continue;
    }
    rows.push({ field, label: prefix + (FIELD_LABELS[field] || field), before: valueText(field, a), after: valueText(field, b) });
  }
  return rows;
}

const DiffTable = {
  name: 'DiffTable',
  props: { diff: Object, title: String },
  setup(props) { return { rows: computed(() => diffRows(props.diff)) }; },
  template: `
  <div class="diff-table">
    <h4 v-if="title" class="section-title">{{ title }}</h4>
    <el-table :data="rows" border size="small" empty-text="无变更项">
      <el-table-column prop="label" label="变更项" width="180" />
      <el-table-column prop="before" label="变更前" min-width="200" />
      <el-table-column prop="after" label="变更后" min-width="200" />
    </el-table>
  </div>`,
};

const ApplicationView = {
  name: 'ApplicationView',
  props: { app: { type: Object, required: true } },
  setup(props) {
    const changes = computed(() => props.app.changes || null);
    const type = computed(() => props.app.type);
    const accessBefore = computed(() => changes.value && changes.value.access && changes.value.access.before);
    const accessAfter = computed(() => changes.value && changes.value.access && changes.value.access.after);
    const cancel = computed(() => ['CANCEL_SUBJECT', 'CANCEL_WEBSITE'].includes(type.value));
    const meta = computed(() => [
      { label: '申请类型', value: codeName('filing_types', props.app.type) },
      { label: '备案方式', value: filingMethodName(props.app.filing_method) },
      { label: '主体所在省', value: regionPath(props.app.province) },
      { label: '来源', value: props.app.source === 'import' ? '批量导入' : '页面录入' },
      { label: '提交时间', value: fmtTime(props.app.submitted_at) },
      { label: '版本', value: props.app.version },
    ]);
    return { changes, type, accessBefore, accessAfter, cancel, meta };
  },
  template: `
  <div class="application-view">
    <detail-view title="申请概况" :items="meta" />
    <template v-if="cancel && changes">
      <detail-view title="注销申请" :items="[
        { label: '注销对象', value: changes.target_type === 'SUBJECT' ? '主体（含其全部网站）' : '网站' },
        { label: '备案号', value: changes.target_no },
        { label: '注销原因', value: changes.reason_name },
        { label: '原因说明', value: changes.reason },
      ]" />
    </template>
    <diff-table v-if="type === 'CHANGE_SUBJECT' && changes && changes.subject" :diff="changes.subject" title="主体变更内容" />
    <diff-table v-if="type === 'CHANGE_WEBSITE' && changes && changes.website" :diff="changes.website" title="网站变更内容" />
    <template v-if="(type === 'ADD_ACCESS' || type === 'CHANGE_ACCESS') && changes">
      <access-panel v-if="accessBefore" :a="accessBefore" title="变更前的接入信息" />
      <access-panel v-if="accessAfter" :a="accessAfter" :title="type === 'ADD_ACCESS' ? '新增的接入信息' : '变更后的接入信息'" />
    </template>
    <subject-panel v-if="app.subject" :subject="app.subject" />
    <website-panel v-for="(w, i) in app.websites || []" :key="w.website_id || i" :w="w"
                  :title="'网站' + (i + 1) + '：' + w.name" />
  </div>`,
};

// ---------------------------------------------------------------- field paths → Chinese labels

const PATH_LABELS = {
  nature: '主办单位性质', cert_type: '证件类型', cert_number: '证件号码', name: '名称', cert_address: '证件住所',
  province: '所属区域', city: '所属区域', county: '所属区域', mail_address: '通信地址',
  investor_or_superior: '投资者或上级主管单位', remark: '备注', id_type: '证件类型', id_number: '证件号码',
  id_valid_from: '证件有效期起', id_valid_to: '证件有效期止', mobile: '手机号码', office_phone: '办公电话',
  emergency_phone: '应急联系电话', email: '电子邮件', service_type: '服务类型', domains: '网站域名',
  home_urls: '首页网址', service_content: '网站服务内容', preapprovals: '前置审批项', languages: '网站语言',
  principal_same_as_subject: '同主体负责人', access_methods: '接入方式', ip_ranges: '网站IP地址段',
  server_locations: '服务器放置地', approval_no: '审批文号', start_ip: '起始IP', end_ip: '终止IP',
  im_type: '即时通信类型', im_account: '即时通信账号', legal_rep_name: '法定代表人姓名', legal_rep_id: '法定代表人证件号码',
};

/** 'subject.principal.mobile' → '主体负责人·手机号码'; 'websites[1].domains[0]' → '网站2·网站域名'. */
export function filingFieldLabel(path) {
  const parts = String(path || '').split('.');
  const out = [];
  for (const raw of parts) {
    const m = /^([a-z_]+)(?:\[(\d+)\])?/.exec(raw);
    if (!m) continue;
    const [, key, idx] = m;
    if (key === 'subject') out.push('主体');
    else if (key === 'websites') out.push(idx === undefined ? '网站' : `网站${Number(idx) + 1}`);
    else if (key === 'principal') out.push('负责人');
    else if (key === 'access') out.push('接入信息');
    else if (PATH_LABELS[key]) out.push(key === 'name' && out[out.length - 1] === '负责人' ? '姓名' : PATH_LABELS[key]);
  }
  return out.join('·');
}

// ---------------------------------------------------------------- history

const AUDIT_ACTIONS = {
  create: '新建', update: '修改', delete: '删除', status: '状态变更', submit: '提交', resubmit: '重新提交',
  approve: '审核通过', return: '核实退回', reject: '管局驳回', cancel: '取消', change: '申请变更', correct: '更正',
  abandon: '放弃申请', withdraw: '撤回',
};
const AUDIT_ENTITIES = { subject: '主体', website: '网站', application: '申请', access: '接入', draft: '草稿', domain: '域名' };
const extraLabels = { status: '状态', subject_no: '主体备案号', website_no: '网站备案号', opinion: '意见', type: '申请类型',
  version: '版本', reason: '原因', note: '说明', access: '接入信息', website: '网站信息', subject: '主体信息',
  verify_opinion: '核实意见', bureau_reason: '管局意见', source: '来源', needs_preapproval: '涉及前置审批',
  filing_method: '备案方式', reason_code: '注销原因', reason_name: '注销原因', target_no: '备案号',
  sponsor_username: '主办者用户名', unicode: '中文域名', ascii: '域名' };
const SOURCES = { entry: '页面录入', import: '批量导入' };

function auditValue(entity, field, v) {
  if (field === 'status' && typeof v === 'string') {
    return entity === 'application' ? codeName('application_statuses', v) : entityStatusName(entity, v);
  }
  if (field === 'type' && typeof v === 'string') return codeName('filing_types', v);
  if (field === 'source') return SOURCES[v] || v;
  if (field === 'filing_method') return filingMethodName(v);
  if (field === 'reason_code') return codeName('cancel_reasons', v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return fmtTime(v);
  return valueText(field, v);
}

/** "状态：待核实 → 已提交管局（审核中）；意见：同意" of an audit entry's changes. */
export function auditText(item) {
  // fields without a Chinese label (ids, positions, internal flags) are not shown
  return Object.entries(item.changes || {}).filter(([k]) => FIELD_LABELS[k] || extraLabels[k]).map(([k, v]) => {
    const label = FIELD_LABELS[k] || extraLabels[k];
    if (Array.isArray(v) && v.length === 2 && !['domains', 'home_urls', 'ip_ranges', 'languages', 'service_content',
      'access_methods', 'server_locations', 'website_ids'].includes(k)) {
      return `${label}：${auditValue(item.entity, k, v[0])} → ${auditValue(item.entity, k, v[1])}`;
    }
    return `${label}：${auditValue(item.entity, k, v)}`;
  }).join('；');
}

const AuditLog = {
  name: 'AuditLog',
  props: { items: { type: Array, required: true } },
  setup() {
    return { fmtTime, auditText, entity: (e) => AUDIT_ENTITIES[e] || e, action: (a) => AUDIT_ACTIONS[a] || a };
  },
  template: `
  <el-table :data="items" border size="small" empty-text="暂无记录" class="audit-log">
    <el-table-column label="时间" width="150"><template #default="{ row }">{{ fmtTime(row.at) }}</template></el-table-column>
    <el-table-column label="对象" width="70"><template #default="{ row }">{{ entity(row.entity) }}</template></el-table-column>
    <el-table-column label="操作" width="90"><template #default="{ row }">{{ action(row.action) }}</template></el-table-column>
    <el-table-column label="内容" min-width="300"><template #default="{ row }"><span class="pre">{{ auditText(row) || '—' }}</span></template></el-table-column>
    <el-table-column prop="actor" label="操作人" width="140" show-overflow-tooltip />
  </el-table>`,
};

// The applications of a record (filing's `applications[]`: type, status, opinions, status history).
const ApplicationHistory = {
  name: 'ApplicationHistory',
  props: { applications: { type: Array, required: true } },
  setup() { return { fmtTime }; },
  template: `
  <el-empty v-if="!applications.length" description="暂无申请" :image-size="60" />
  <el-collapse v-else class="application-history">
    <el-collapse-item v-for="a in applications" :key="a.id" :name="a.id">
      <template #title>
        <span class="app-title">{{ a.type_name }}　<status-tag :status="a.status" :name="a.status_name" />
        　<span class="hint">{{ fmtTime(a.submitted_at) }} 提交，第{{ a.version }}版</span></span>
      </template>
      <p v-if="a.verify_opinion">核实意见：{{ a.verify_opinion }}</p>
      <p v-if="a.bureau_reason">管局意见：{{ a.bureau_reason }}</p>
      <el-timeline>
        <el-timeline-item v-for="(h, i) in a.history || []" :key="i" :timestamp="fmtTime(h.at)">
          {{ h.status_name }}<span v-if="h.note">：{{ h.note }}</span>
        </el-timeline-item>
      </el-timeline>
    </el-collapse-item>
  </el-collapse>`,
};

// The answer of a submitted business application (ApplicationCreated): what happens next, and the
// pre-approval departments' contacts when the website involves pre-approval items.
const SubmittedView = {
  name: 'SubmittedView',
  props: { out: { type: Object, required: true }, back: { type: String, default: '' } },
  emits: ['again'],
  template: `
  <div class="submitted-view" data-test="submitted">
    <el-result icon="success" :title="out.type_name + '申请已提交'" :sub-title="out.notice">
      <template #extra>
        <el-button type="primary" @click="$router.push({ path: '/verify', query: { application_id: out.application_id, stage: 'all' } })">去核实</el-button>
        <el-button v-if="back" @click="$router.push(back)">返回</el-button>
      </template>
    </el-result>
    <detail-view :items="[
      { label: '申请类型', value: out.type_name },
      { label: '状态', value: out.status_name },
      { label: '申请编号', value: out.application_id },
      { label: '涉及前置审批', value: out.needs_preapproval ? '是' : '否' },
    ]" />
    <template v-if="out.preapproval_contacts && out.preapproval_contacts.length">
      <h4 class="section-title">前置审批部门联系方式</h4>
      <el-table :data="out.preapproval_contacts" border size="small">
        <el-table-column prop="preapproval_type_name" label="审批项目" width="140" />
        <el-table-column prop="department" label="审批部门" min-width="180" />
        <el-table-column prop="phone" label="电话" width="140" />
        <el-table-column prop="address" label="地址" min-width="180" />
        <el-table-column prop="website" label="网址" min-width="140" />
      </el-table>
    </template>
  </div>`,
};

export const RECORD_VIEWS = {
  SubmittedView,
  StatusTag, PrincipalPanel, SubjectPanel, AccessPanel, WebsitePanel, DiffTable, ApplicationView, AuditLog,
  ApplicationHistory,
};
// nested use: each view may render the others
for (const c of Object.values(RECORD_VIEWS)) c.components = RECORD_VIEWS;
