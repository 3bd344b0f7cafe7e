// 备案详细信息 (seed 1.7.2 "详细信息"): the subject, principals (ID numbers masked), websites, domains,
// access records, numbers, dates and 备案方式 of one filing.
import { api } from '../lib/api.js';
import { fmtDate } from '../lib/format.js';

export default {
  name: 'ReportingFilingPage',
  setup() {
    const route = VueRouter.useRoute();
    const d = Vue.ref(null);
    Vue.onMounted(async () => { d.value = await api.get(`/reporting/filings/${route.params.id}`); });
    const principal = (p) => [
      { label: '负责人姓名', value: p.name }, { label: '证件类型', value: p.id_type_name },
      { label: '证件号码', value: p.id_number_masked }, { label: '手机号码', value: p.mobile },
      { label: '电子邮件', value: p.email || '—' },
    ];
    return { d, principal, fmtDate };
  },
  template: `
  <page-card title="备案详细信息">
    <template v-if="d">
      <detail-view title="主办单位信息" data-test="subject" :items="[
        { label: '主办单位名称', value: d.subject.name }, { label: '主体备案号', value: d.subject.subject_no },
        { label: '单位性质', value: d.subject.nature_name }, { label: '证件类型', value: d.subject.cert_type_name },
        { label: '证件号码', value: d.subject.cert_number }, { label: '所属省份', value: d.subject.province_name },
        { label: '通信地址', value: d.subject.mail_address || '—' }, { label: '投资者或主管单位', value: d.subject.investor_or_superior || '—' },
        { label: '备案方式', value: d.filing_method_name }, { label: '状态', value: d.status_name },
        { label: '审核通过日期', value: fmtDate(d.approved_at) }, { label: '备案接入服务提供者', value: d.filing_provider_name },
      ]" />
      <detail-view title="主体负责人" :items="principal(d.subject.principal)" />
      <div v-for="w in d.websites" :key="w.website_id" class="detail-block" :data-test="'website-' + w.website_no">
        <detail-view :title="'网站：' + w.name" :items="[
          { label: '网站备案号', value: w.website_no }, { label: '状态', value: w.status_name },
          { label: '网站域名', value: w.domains.join('、') }, { label: '首页网址', value: w.home_urls.join('、') || '—' },
          { label: '服务内容', value: w.service_content_names.join('、') }, { label: '网站语言', value: w.language_names.join('、') },
          { label: '前置审批', value: w.preapprovals.map((x) => x.type_name + (x.approval_no ? '（' + x.approval_no + '）' : '')).join('、') || '—' },
          { label: '审核通过日期', value: fmtDate(w.approved_at) },
        ]" />
        <detail-view title="网站负责人" :items="principal(w.principal)" />
        <el-table :data="w.accesses" border size="small" empty-text="无接入信息">
          <el-table-column prop="provider_name" label="接入服务提供者" min-width="160" />
          <el-table-column label="接入方式" min-width="120"><template #default="{ row }">{{ row.access_method_names.join('、') }}</template></el-table-column>
          <el-table-column label="IP 地址段" min-width="200"><template #default="{ row }">{{ row.ip_ranges.join('；') }}</template></el-table-column>
          <el-table-column label="服务器放置地" min-width="120"><template #default="{ row }">{{ row.server_location_names.join('、') }}</template></el-table-column>
          <el-table-column prop="status_name" label="状态" width="90" />
        </el-table>
      </div>
    </template>
  </page-card>`,
};
