// One detection (an unfiled site at one provider): its sighting history (检测历史, opened from the
// detection count), every handling, and — for the provider — the handling form (处理: choose a result
// from the code table, a note, 提交 → 返回 to handle the next).
import { api, ApiError, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';
import { hasRole } from '../lib/session.js';
import { codeName } from '../lib/codes.js';
import { STATUS_NAMES, STATUS_TAGS } from './unfiled.js';

const { ref, reactive, computed, onMounted } = Vue;
const { useRoute, useRouter } = VueRouter;

export default {
  name: 'UnfiledDetailPage',
  setup() {
    const route = useRoute();
    const router = useRouter();
    const id = route.params.id;
    const h = ref(null);
    const missing = ref(false);
    const page = ref(1);
    const provider = hasRole('provider');
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const form = reactive({ code: '', note: '', done: false });

    async function load(p = page.value) {
      try {
        h.value = await api.get(`/detection/unfiled/${id}/history`, { query: { page: p, page_size: 20 } });
        page.value = p;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) missing.value = true;
        else throw e;
      }
    }
    async function submit() {
      const out = await send(() => api.post(`/detection/unfiled/${id}/handling`, { code: form.code, note: form.note }));
      if (out) {
        toastSuccess('处理结果已提交');
        form.done = true;
        await load(1);
      }
    }
    onMounted(() => load(1));
    const d = computed(() => h.value && h.value.detection);
    const items = computed(() => (d.value ? [
      { label: '域名', value: d.value.domain },
      { label: 'IP地址', value: d.value.ip },
      { label: '省份', value: d.value.province_name },
      { label: '接入服务提供者', value: d.value.provider_name || d.value.provider_id },
      { label: '首次检测时间', value: fmtTime(d.value.first_seen) },
      { label: '最近检测时间', value: fmtTime(d.value.last_seen) },
      { label: '检测次数', value: d.value.sightings },
      { label: '处理状态', value: STATUS_NAMES[d.value.status] },
      { label: '处理结果', value: d.value.handling_name },
      { label: '检测后备案', value: d.value.filed_meanwhile ? `已备案（${d.value.filed_no}）` : '否' },
    ] : []));
    const back = () => router.push('/unfiled');
    return { busy, h, d, items, missing, page, load, provider, f, form, submit, back, fmtTime, codeName, STATUS_TAGS,
      handle: route.query.handle === '1' };
  },
  template: `
  <page-card :title="d ? '检测结果：' + d.domain : '检测结果'">
    <template #actions><el-button @click="back" data-test="back-to-list">返回</el-button></template>
    <el-result v-if="missing" icon="warning" title="检测结果不存在" />
    <template v-if="d">
      <detail-view :items="items" />
      <template v-if="provider">
        <h3 class="section-title">处理</h3>
        <el-alert v-if="form.done" type="success" :closable="false" show-icon title="处理结果已提交" data-test="handled">
          <el-button link type="primary" @click="back">返回处理下一条</el-button>
        </el-alert>
        <el-form v-else label-width="90px" @submit.prevent="submit" data-test="handling-form" style="max-width: 640px">
          <el-form-item label="处理结果" :error="f.err('code')" required>
            <code-select v-model="form.code" table="detection_handling" placeholder="请选择处理结果" data-test="handling-code" />
          </el-form-item>
          <el-form-item label="处理说明" :error="f.err('note')">
            <el-input v-model="form.note" type="textarea" :rows="3" maxlength="500" show-word-limit name="note" />
          </el-form-item>
          <form-errors :form="f" />
          <el-form-item>
            <el-button type="primary" native-type="submit" :loading="busy" data-test="handling-submit">提交</el-button>
          </el-form-item>
        </el-form>
      </template>
      <h3 class="section-title">处理记录</h3>
      <el-table :data="h.handlings" border stripe empty-text="尚未处理" data-test="handlings">
        <el-table-column label="处理时间" width="160"><template #default="{ row }">{{ fmtTime(row.handled_at) }}</template></el-table-column>
        <el-table-column prop="name" label="处理结果" min-width="200" />
        <el-table-column prop="note" label="处理说明" min-width="200" />
        <el-table-column label="处理人" width="140"><template #default="{ row }">{{ row.handled_by === 'system' ? '系统' : (row.handled_by_name || row.handled_by) }}</template></el-table-column>
      </el-table>
      <h3 class="section-title">检测历史（共 {{ h.total }} 次）</h3>
      <el-table :data="h.sightings" border stripe empty-text="暂无数据" data-test="sightings">
        <el-table-column label="检测时间" width="160"><template #default="{ row }">{{ fmtTime(row.detected_at) }}</template></el-table-column>
        <el-table-column prop="ip" label="IP地址" min-width="130" />
        <el-table-column label="省份" width="100"><template #default="{ row }"><code-name table="provinces" :code="row.province" /></template></el-table-column>
        <el-table-column prop="source" label="检测来源" min-width="140" />
        <el-table-column prop="source_system" label="上报系统" min-width="140" />
        <el-table-column prop="url" label="URL" min-width="180" show-overflow-tooltip />
        <el-table-column prop="title" label="页面标题" min-width="160" show-overflow-tooltip />
      </el-table>
      <el-pagination class="pager no-print" background layout="total, prev, pager, next" :total="h.total"
        :current-page="page" :page-size="20" @current-change="load" />
    </template>
  </page-card>`,
};
