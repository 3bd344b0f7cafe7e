// 备案业务管理: the query pages of 1.4.1 新增网站, 1.4.3 变更主体 (filed subjects) and 1.4.4 变更网站,
// 1.4.5 变更接入/取消接入 (filed websites this provider gives access to). Combinable conditions kept in
// the URL; "新增网站" / "修改" / "变更接入" opens the form of that record; "浏览" its detail page.
import { usePagedList } from '../lib/list.js';
import { codeName } from '../lib/codes.js';
import { entityStatusName, FILING_METHODS, filingMethodName, RECORD_VIEWS } from '../lib/record-views.js';

const { useRoute } = VueRouter;

const KINDS = {
  'add-website': { title: '新增网站', subjects: true, action: '新增网站',
    hint: '为已备案的主体新增网站。自主备案或由其他接入服务提供者备案的主体，须填写主办者提供的用户名和密码。' },
  'change-subject': { title: '变更主体', subjects: true, action: '修改',
    hint: '变更已备案主体的信息（主办单位性质、证件和所在省不能变更）。自主备案或由其他接入服务提供者备案的主体须经权限验证。' },
  'change-website': { title: '变更网站', subjects: false, action: '修改',
    hint: '变更本接入服务提供者所接入网站的信息；域名只能删除，不能新增。' },
  'change-access': { title: '变更接入', subjects: false, action: '变更接入',
    hint: '变更本接入服务提供者对网站的接入信息，或取消接入（立即生效；没有其他接入的网站将成为空壳网站）。' },
};

export default {
  name: 'BusinessListPage',
  components: RECORD_VIEWS,
  setup() {
    const route = useRoute();
    const key = route.path.split('/').pop();
    const kind = KINDS[key];
    const list = usePagedList(kind.subjects ? '/filing/subjects' : '/filing/websites', kind.subjects
      ? { name: '', filing_no: '', cert_number: '', domain: '', filing_method: '', status: 'ACTIVE' }
      : { name: '', subject_name: '', filing_no: '', domain: '', filing_method: '', status: 'ACTIVE' });
    const formPath = (row) => `/business/${key}/${row.id}`;
    const filed = (row) => (kind.subjects ? ['ACTIVE', 'SHELL', 'NO_ACCESS'] : ['ACTIVE', 'NO_ACCESS']).includes(row.status);
    const STATUS = kind.subjects
      ? [{ value: 'ACTIVE', label: '正常' }, { value: 'SHELL', label: '空壳主体' }]
      : [{ value: 'ACTIVE', label: '正常' }, { value: 'NO_ACCESS', label: '空壳网站（无接入）' }];
    return { list, kind, key, formPath, filed, STATUS, FILING_METHODS, filingMethodName, entityStatusName, codeName };
  },
  template: `
  <page-card :title="kind.title">
    <el-alert type="info" :closable="false" show-icon class="form-errors no-print" :title="kind.hint">
      <router-link v-if="key === 'add-website'" to="/business/find-subject" data-test="find-subject-link">
        查找其他接入服务提供者或自主备案的主体</router-link>
    </el-alert>
    <list-filters :list="list" data-test="business-filters">
      <el-form-item :label="kind.subjects ? '主办单位名称' : '网站名称'">
        <el-input v-model="list.filters.name" clearable placeholder="包含" style="width: 170px" name="name" />
      </el-form-item>
      <el-form-item v-if="!kind.subjects" label="主办单位名称">
        <el-input v-model="list.filters.subject_name" clearable placeholder="包含" style="width: 170px" />
      </el-form-item>
      <el-form-item label="备案号">
        <el-input v-model="list.filters.filing_no" clearable placeholder="主体或网站备案号" style="width: 190px" name="filing_no" />
      </el-form-item>
      <el-form-item label="网站域名">
        <el-input v-model="list.filters.domain" clearable placeholder="包含" style="width: 170px" name="domain" />
      </el-form-item>
      <el-form-item v-if="kind.subjects" label="证件号码">
        <el-input v-model="list.filters.cert_number" clearable placeholder="精确" style="width: 190px" />
      </el-form-item>
      <el-form-item label="备案方式">
        <el-select v-model="list.filters.filing_method" clearable placeholder="全部" style="width: 120px">
          <el-option v-for="m in FILING_METHODS" :key="m.value" :label="m.label" :value="m.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="状态">
        <el-select v-model="list.filters.status" style="width: 170px">
          <el-option v-for="s in STATUS" :key="s.value" :label="s.label" :value="s.value" />
        </el-select>
      </el-form-item>
    </list-filters>
    <paged-table :list="list">
      <el-table-column label="主办单位名称" min-width="170">
        <template #default="{ row }">{{ kind.subjects ? row.name : row.subject_name }}</template>
      </el-table-column>
      <el-table-column label="备案/许可证号" min-width="180">
        <template #default="{ row }">{{ (kind.subjects ? row.subject_no : row.website_no) || '—' }}</template>
      </el-table-column>
      <el-table-column v-if="!kind.subjects" prop="name" label="网站名称" min-width="150" />
      <el-table-column label="首页网址" min-width="170" v-if="!kind.subjects">
        <template #default="{ row }">{{ row.home_urls.join('、') }}</template>
      </el-table-column>
      <el-table-column v-if="kind.subjects" prop="website_count" label="网站数" width="70" />
      <el-table-column label="备案方式" width="90">
        <template #default="{ row }">{{ filingMethodName(row.filing_method) }}</template>
      </el-table-column>
      <el-table-column label="进行中的申请" min-width="150">
        <template #default="{ row }">
          <span v-if="row.application && !['APPROVED', 'ABANDONED'].includes(row.application.status)">
            {{ codeName('filing_types', row.application.type) }}：{{ row.application.status_name }}</span>
          <span v-else>—</span>
        </template>
      </el-table-column>
      <el-table-column label="操作" width="150" class-name="no-print">
        <template #default="{ row }">
          <router-link v-if="filed(row)" :to="formPath(row)" :data-test="'business-action'">{{ kind.action }}</router-link>
          <router-link class="link-gap" :to="(kind.subjects ? '/records/subjects/' : '/records/websites/') + row.id">浏览</router-link>
        </template>
      </el-table-column>
    </paged-table>
  </page-card>`,
};
