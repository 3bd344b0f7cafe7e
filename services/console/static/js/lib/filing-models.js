// Models of the filing forms (lib/filing-forms.js) and the JSON the API takes from them (DOMAIN §4):
//
//   blankSubject() / blankWebsite() / blankAccess() / blankPrincipal()   empty models
//   fill(blankWebsite(), saved)                                         a saved draft part over an empty model
//   subjectFromRecord(s) / websiteFromRecord(w) / accessFromRecord(a)   a filed record (or snapshot) as a model
//   subjectPayload(m) / websitePayload(m, mode, { access }) / accessPayload(m) / principalPayload(m)
//
// Used by the entry wizard, the business pages (新增网站, 新增接入, 变更主体/网站/接入) and the correction page.

// `is_legal_rep` is the form's own switch (负责人是否为法定代表人), never sent: unset, it follows the data
// (no legal representative filled in → the principal is the legal representative).
export const blankPrincipal = () => ({
  name: '', id_type: 'RESIDENT_ID', id_number: '', id_valid_from: '', id_valid_to: '', mobile: '', office_phone: '',
  emergency_phone: '', email: '', im_type: '', im_account: '', legal_rep_name: '', legal_rep_id: '',
});

// 即时通信类型 (DOMAIN §4.2): no code table holds them
export const IM_TYPES = [
  { value: 'QQ', label: 'QQ' }, { value: 'WECHAT', label: '微信' }, { value: 'DINGTALK', label: '钉钉' },
  { value: 'OTHER', label: '其他' }, { value: 'NONE', label: '无' },
];
export const imTypeName = (t) => (IM_TYPES.find((x) => x.value === t) || { label: t || '' }).label;
export const hasImAccount = (t) => !!t && t !== 'NONE';
export const isLegalRep = (p) => (p.is_legal_rep === undefined ? !(p.legal_rep_name || p.legal_rep_id) : !!p.is_legal_rep);
export const blankSubject = () => ({
  nature: '', cert_type: '', cert_number: '', name: '', cert_address: '', province: '', city: '', county: '',
  mail_address: '', investor_or_superior: '', remark: '', principal: blankPrincipal(),
});
export const blankAccess = () => ({ access_methods: [], ip_ranges: [{ start_ip: '', end_ip: '' }], server_locations: [] });
export const blankWebsite = () => ({
  service_type: 'WEBSITE', name: '', domains: [''], home_urls: [''], service_content: [], preapprovals: [{ type: 'NONE', approval_no: '' }],
  languages: ['ZH_HANS'], remark: '', principal_same_as_subject: true, principal: blankPrincipal(), access: blankAccess(),
});

/** `saved` (a draft part, possibly partial or invalid) laid over the empty model `empty`. */
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

const text = (v) => (v === null || v === undefined ? '' : String(v));

export function principalFromRecord(p) {
  const out = blankPrincipal();
  for (const k of Object.keys(out)) out[k] = text(p && p[k]);
  if (!out.id_type) out.id_type = 'RESIDENT_ID';
  return out;
}

export function accessFromRecord(a) {
  if (!a) return blankAccess();
  const ranges = (a.ip_ranges || []).map((r) => {
    if (typeof r !== 'string') return { start_ip: r.start_ip, end_ip: r.end_ip };
    const [start, end] = r.split('-');
    return { start_ip: start, end_ip: end || start };
  });
  return {
    access_methods: [...(a.access_methods || [])],
    ip_ranges: ranges.length ? ranges : [{ start_ip: '', end_ip: '' }],
    server_locations: [...(a.server_locations || [])],
  };
}

export function subjectFromRecord(s) {
  const keys = ['nature', 'cert_type', 'cert_number', 'name', 'cert_address', 'province', 'city', 'county',
    'mail_address', 'investor_or_superior', 'remark'];
  const out = Object.fromEntries(keys.map((k) => [k, text(s[k])]));
  out.principal = principalFromRecord(s.principal);
  return out;
}

/** A filed website (GET /websites/{id}) as a WebsiteChange model; `keep` lists the domains kept. */
export function websiteFromRecord(w) {
  const domains = (w.domains || []).filter((d) => typeof d === 'string' || d.status !== 'CANCELLED')
    .map((d) => (typeof d === 'string' ? d : d.domain));
  return {
    service_type: w.service_type || 'WEBSITE', name: w.name, domains, allDomains: [...domains],
    home_urls: [...(w.home_urls || [])], service_content: [...(w.service_content || [])],
    preapprovals: (w.preapprovals || []).map((p) => ({ type: p.type, approval_no: p.approval_no || '' })),
    languages: [...(w.languages || [])], remark: w.remark || '',
    principal_same_as_subject: !!w.principal_same_as_subject,
    principal: principalFromRecord(w.principal),
  };
}

export function principalPayload(p) {
  const { is_legal_rep: _, ...out } = p;
  for (const k of ['id_valid_from', 'id_valid_to']) if (!out[k]) out[k] = null;
  for (const k of ['im_type', 'im_account', 'legal_rep_name', 'legal_rep_id']) out[k] = (out[k] || '').trim();
  if (!hasImAccount(out.im_type)) out.im_account = ''; // the account input is hidden then
  if (p.is_legal_rep === true) { out.legal_rep_name = ''; out.legal_rep_id = ''; } // switched back: drop them
  return out;
}

const texts = (list) => (list || []).map((x) => (x || '').trim()).filter(Boolean);

/** An Access; rows left empty are not sent (an end IP left empty: a single address). */
export function accessPayload(a) {
  return {
    access_methods: a.access_methods,
    ip_ranges: a.ip_ranges.filter((r) => r.start_ip || r.end_ip)
      .map((r) => ({ start_ip: (r.start_ip || '').trim(), end_ip: (r.end_ip || r.start_ip || '').trim() })),
    server_locations: a.server_locations,
  };
}

export function subjectPayload(s) {
  return { ...s, principal: principalPayload(s.principal) };
}

/** The body's website: a new one (with its access, unless `access: false`) or a change (without). */
export function websitePayload(w, mode = 'new', { access = mode === 'new' } = {}) {
  const out = {
    service_type: w.service_type || 'WEBSITE', name: w.name,
    domains: texts(w.domains),
    home_urls: texts(w.home_urls),
    service_content: w.service_content,
    preapprovals: w.preapprovals.map((p) => (p.type === 'NONE' ? { type: 'NONE' } : { type: p.type, approval_no: p.approval_no })),
    languages: w.languages, remark: w.remark,
    principal_same_as_subject: w.principal_same_as_subject,
    principal: w.principal_same_as_subject ? null : principalPayload(w.principal),
  };
  if (access) out.access = accessPayload(w.access);
  return out;
}
