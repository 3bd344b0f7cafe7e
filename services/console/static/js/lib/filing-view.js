// Read-only views of filing data (DOMAIN §4: subject, principals, websites, access), every code by
// its Chinese name. Registered globally (components.js):
//   <subject-view :subject="s" />       <website-view :website="w" :index="0" />
//   <filing-view :subject="s" :websites="[w, …]" />
// The objects are the API's JSON (FilingData / an application snapshot / a draft).
import { codeName, codeNames, regionPath } from './codes.js';

function validTo(v) {
  return v === 'LONG_TERM' ? '长期' : v;
}

export function principalItems(p) {
  if (!p) return [];
  return [
    { label: '负责人姓名', value: p.name },
    { label: '证件类型', value: codeName('id_types', p.id_type) },
    { label: '证件号码', value: p.id_number },
    { label: '证件有效期', value: [p.id_valid_from, validTo(p.id_valid_to)].filter(Boolean).join(' 至 ') },
    { label: '手机号码', value: p.mobile },
    { label: '办公电话', value: p.office_phone },
    { label: '应急联系电话', value: p.emergency_phone },
    { label: '电子邮件', value: p.email },
  ];
}

export function subjectItems(s) {
  if (!s) return [];
  const certTable = s.nature === 'PERSONAL' ? 'id_types' : 'certificate_types';
  return [
    { label: '主办单位名称', value: s.name },
    { label: '主办单位性质', value: codeName('unit_natures', s.nature) },
    { label: '证件类型', value: codeName(certTable, s.cert_type) },
    { label: '证件号码', value: s.cert_number },
    { label: '证件住所', value: s.cert_address, span: 2 },
    { label: '所属区域', value: regionPath(s.province, s.city, s.county) },
    { label: '通信地址', value: s.mail_address },
    { label: '投资者或上级主管单位', value: s.investor_or_superior },
    { label: '备注', value: s.remark },
  ];
}

export function websiteItems(w) {
  if (!w) return [];
  const pre = (w.preapprovals || [])
    .map((x) => codeName('preapproval_types', x.type) + (x.approval_no ? `（${x.approval_no}）` : ''))
    .join('、');
  const access = w.access || {};
  return [
    { label: '网站名称', value: w.name },
    { label: '服务类型', value: codeName('service_types', w.service_type || 'WEBSITE') },
    { label: '网站域名', value: (w.domains || []).join('、') },
    { label: '首页网址', value: (w.home_urls || []).join('、') },
    { label: '服务内容', value: codeNames('service_content', w.service_content) },
    { label: '网站语言', value: codeNames('languages', w.languages) },
    { label: '前置审批', value: pre, span: 2 },
    { label: '接入方式', value: codeNames('access_methods', access.access_methods) },
    { label: '服务器放置地', value: codeNames('provinces', access.server_locations) },
    { label: 'IP地址段', value: (access.ip_ranges || []).map((r) => (r.start_ip === r.end_ip ? r.start_ip : `${r.start_ip} - ${r.end_ip}`)).join('；'), span: 2 },
    { label: '备注', value: w.remark, span: 2 },
  ];
}

export const SubjectView = {
  name: 'SubjectView',
  props: { subject: Object },
  setup(props) {
    return {
      items: Vue.computed(() => subjectItems(props.subject)),
      principal: Vue.computed(() => principalItems(props.subject && props.subject.principal)),
    };
  },
  template: `
  <div class="subject-view">
    <detail-view title="主办单位信息" :items="items" />
    <detail-view title="主体负责人" :items="principal" />
  </div>`,
};

export const WebsiteView = {
  name: 'WebsiteView',
  props: { website: Object, index: Number, subject: Object },
  setup(props) {
    return {
      items: Vue.computed(() => websiteItems(props.website)),
      principal: Vue.computed(() => principalItems(props.website && props.website.principal)),
    };
  },
  template: `
  <div class="website-view">
    <detail-view :title="'网站' + (index === undefined ? '' : index + 1) + '：' + (website && website.name || '')" :items="items" />
    <detail-view v-if="website && !website.principal_same_as_subject" title="网站负责人" :items="principal" />
    <p v-else class="hint">网站负责人：同主体负责人</p>
  </div>`,
};

export const FilingView = {
  name: 'FilingView',
  props: { subject: Object, websites: Array },
  template: `
  <div class="filing-view">
    <subject-view :subject="subject" />
    <website-view v-for="(w, i) in websites || []" :key="i" :website="w" :index="i" />
  </div>`,
};

// ---------------------------------------------------------------- field paths → Chinese labels

const FIELD_LABELS = {
  nature: '主办单位性质', cert_type: '证件类型', cert_number: '证件号码', name: '名称', cert_address: '证件住所',
  province: '所属区域', city: '所属区域', county: '所属区域', mail_address: '通信地址',
  investor_or_superior: '投资者或上级主管单位', remark: '备注', id_type: '证件类型', id_number: '证件号码',
  id_valid_from: '证件有效期起', id_valid_to: '证件有效期止', mobile: '手机号码', office_phone: '办公电话',
  emergency_phone: '应急联系电话', email: '电子邮件', service_type: '服务类型', domains: '网站域名',
  home_urls: '首页网址', service_content: '网站服务内容', preapprovals: '前置审批项', languages: '网站语言',
  principal_same_as_subject: '同主体负责人', access_methods: '接入方式', ip_ranges: '网站IP地址段',
  server_locations: '服务器放置地', approval_no: '审批文号', start_ip: '起始IP', end_ip: '终止IP',
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
    else if (FIELD_LABELS[key]) out.push(key === 'name' && out[out.length - 1] === '负责人' ? '姓名' : FIELD_LABELS[key]);
  }
  return out.join('·');
}
