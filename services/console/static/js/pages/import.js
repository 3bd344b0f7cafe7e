// 1.3.2 批量导入: template download, upload, live progress, the error list (sheet/row/column) with the
// annotated workbook, the credentials workbook. The job being watched is in the URL (`?job=…`).
import { api, download, toastSuccess } from '../lib/api.js';
import { useFieldErrors } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';

const { ref, computed, onMounted, onBeforeUnmount, watch } = Vue;

const RUNNING = ['QUEUED', 'VALIDATING', 'CHECKING', 'IMPORTING'];
const POLL_MS = 1000;

/** Percent done of a job: reading and checking the rows is the first half, importing the second. */
export function progressOf(job) {
  if (!job) return 0;
  if (['COMPLETED', 'REJECTED', 'FAILED'].includes(job.status)) return 100; // finished (the colour says how)
  const total = job.rows_total || 0;
  if (!total) return job.status === 'QUEUED' ? 0 : 5;
  const checked = Math.min(job.rows_validated, total) / total;
  const imported = Math.min(job.rows_imported, total) / total;
  return Math.max(1, Math.min(99, Math.round(job.status === 'IMPORTING' ? 50 + imported * 50 : checked * 50)));
}

const ErrorTable = {
  name: 'ImportErrors',
  props: { jobId: String, total: Number },
  setup(props) {
    const rows = ref([]);
    const page = ref(1);
    const loading = ref(false);
    async function load() {
      loading.value = true;
      try {
        const out = await api.get(`/importer/jobs/${props.jobId}/errors`, { query: { page: page.value, page_size: 20 } });
        rows.value = out.items;
      } finally {
        loading.value = false;
      }
    }
    watch(page, load);
    onMounted(load);
    return { rows, page, loading };
  },
  template: `
  <div>
    <el-table :data="rows" v-loading="loading" border stripe data-test="import-errors" empty-text="没有错误">
      <el-table-column prop="sheet" label="工作表" width="90" />
      <el-table-column prop="row" label="行" width="70" />
      <el-table-column label="列" width="160"><template #default="{ row }">{{ row.column_name || row.column || '—' }}</template></el-table-column>
      <el-table-column prop="value" label="填写的值" min-width="140" show-overflow-tooltip />
      <el-table-column prop="message" label="错误原因" min-width="260" />
    </el-table>
    <el-pagination class="pager no-print" background layout="total, prev, pager, next" :total="total"
                   :page-size="20" v-model:current-page="page" />
  </div>`,
};

export default {
  name: 'ImportPage',
  components: { ImportErrors: ErrorTable },
  setup() {
    const route = VueRouter.useRoute();
    const router = VueRouter.useRouter();
    const file = ref(null);
    const upload = ref(null);
    const job = ref(null);
    const busy = ref(false);
    const history = ref([]);
    const f = useFieldErrors();
    let timer = null;

    const running = computed(() => job.value && RUNNING.includes(job.value.status));
    const percent = computed(() => progressOf(job.value));
    const barStatus = computed(() => {
      if (!job.value) return '';
      if (job.value.status === 'COMPLETED') return 'success';
      if (['REJECTED', 'FAILED'].includes(job.value.status)) return 'exception';
      return '';
    });

    async function loadHistory() {
      history.value = (await api.get('/importer/jobs', { query: { page_size: 10 } })).items;
    }

    function stop() { if (timer) { clearTimeout(timer); timer = null; } }
    async function poll() {
      stop();
      const id = route.query.job;
      if (!id) { job.value = null; return; }
      job.value = await api.get(`/importer/jobs/${encodeURIComponent(id)}`);
      // a rejected job's annotated workbook is built a moment after the rejection: poll until it is there
      if (RUNNING.includes(job.value.status) || job.value.errors_file_pending) {
        timer = setTimeout(() => poll().catch(() => stop()), POLL_MS);
      }
      if (!RUNNING.includes(job.value.status)) loadHistory();
    }
    watch(() => route.query.job, poll);
    onMounted(() => { poll(); loadHistory(); });
    onBeforeUnmount(stop);

    function chosen(uploadFile) { file.value = uploadFile.raw; }
    function removed() { file.value = null; }

    async function submit() {
      if (!file.value) { f.set([{ field: 'file', message: '请选择要导入的 Excel 文件（.xlsx）' }]); return; }
      busy.value = true;
      try {
        const form = new FormData();
        form.append('file', file.value, file.value.name);
        const out = await f.run(() => api.upload('/importer/jobs', form));
        if (!out) return;
        toastSuccess('文件已上传，正在处理');
        file.value = null;
        if (upload.value) upload.value.clearFiles();
        job.value = out;
        router.push({ query: { job: out.job_id } });
      } catch (e) {
        if (e.status === 413 || e.status === 415) { f.set([{ field: 'file', message: e.detail }]); return; }
        throw e;
      } finally {
        busy.value = false;
      }
    }

    const template = () => download('/importer/template', 'ICP备案批量导入模板.xlsx');
    const errorsBook = () => download(`/importer/jobs/${job.value.job_id}/errors.xlsx`, '错误标注.xlsx');
    const resultBook = () => download(`/importer/jobs/${job.value.job_id}/result`, '批量导入结果-主办者账号.xlsx');
    const open = (id) => router.push({ query: { job: id } });
    const again = () => router.push({ query: {} });

    return { file, upload, job, busy, history, f, running, percent, barStatus, chosen, removed, submit,
      template, errorsBook, resultBook, open, again, fmtTime };
  },
  template: `
  <page-card title="批量导入">
    <template #actions>
      <el-button @click="template" data-test="template">下载导入模板</el-button>
    </template>

    <section v-if="!job" class="import-upload" data-test="upload-form">
      <el-alert type="info" :closable="false" show-icon
        title="请先下载导入模板，按模板“说明”工作表填写“主体”“网站”两个工作表后上传。文件中任一行有错误时整个文件都不导入，并列出全部错误。" />
      <el-form label-width="100px" class="narrow-form import-form" @submit.prevent="submit">
        <el-form-item label="导入文件" :error="f.err('file')" required>
          <el-upload ref="upload" :auto-upload="false" :limit="1" accept=".xlsx" :on-change="chosen" :on-remove="removed"
                     :show-file-list="true" data-test="file">
            <el-button>选择文件</el-button>
            <template #tip><div class="hint">仅支持 .xlsx 文件</div></template>
          </el-upload>
        </el-form-item>
        <form-errors :form="f" />
        <el-form-item>
          <el-button type="primary" native-type="submit" :loading="busy" data-test="submit-import">提交</el-button>
        </el-form-item>
      </el-form>
    </section>

    <section v-else class="import-job" data-test="job">
      <detail-view :column="2" :items="[
        { label: '文件', value: job.filename },
        { label: '状态', value: job.status_zh },
        { label: '上传时间', value: fmtTime(job.created_at) },
        { label: '网站行数', value: job.rows_total },
      ]" />
      <el-progress :percentage="percent" :status="barStatus" :stroke-width="18" text-inside data-test="progress" />
      <p class="hint" v-if="running">{{ job.status_zh }}：已校验 {{ job.rows_validated }} 行，已导入 {{ job.rows_imported }} 行</p>

      <template v-if="job.status === 'COMPLETED'">
        <el-result icon="success" title="导入完成"
          :sub-title="'成功导入 ' + job.subjects_imported + ' 个主体、' + job.rows_imported + ' 个网站，均待核实。'" />
        <el-alert type="warning" :closable="false" show-icon
          :title="'结果文件包含新生成的主办者用户名和初始密码，请妥善保管并安全交付主办者' + (job.result_expires_at ? '；下载有效期至 ' + fmtTime(job.result_expires_at) : '')" />
        <div class="wizard-actions">
          <el-button type="primary" :disabled="!job.result_available" @click="resultBook" data-test="result">下载主办者用户名和密码（Excel）</el-button>
        </div>
      </template>

      <template v-if="job.status === 'REJECTED' || job.status === 'FAILED'">
        <el-alert type="error" :closable="false" show-icon
          :title="(job.message || '文件有错误，未导入任何数据') + (job.error_count ? '（共 ' + job.error_count + ' 处错误）' : '')" />
        <div class="wizard-actions" v-if="job.error_count">
          <el-button type="primary" @click="errorsBook" data-test="errors-xlsx"
            :disabled="!job.errors_file_available" :loading="job.errors_file_pending">
            {{ job.errors_file_pending ? '正在生成标注错误的文件…' : '下载标注错误的文件' }}</el-button>
        </div>
        <import-errors v-if="job.error_count" :job-id="job.job_id" :total="job.error_count" />
      </template>

      <div class="wizard-actions no-print">
        <el-button @click="again" data-test="import-again">导入其他文件</el-button>
      </div>
    </section>

    <h3 class="form-section">最近的导入</h3>
    <el-table :data="history" border empty-text="暂无导入记录">
      <el-table-column prop="filename" label="文件" min-width="200" />
      <el-table-column prop="status_zh" label="状态" width="140" />
      <el-table-column label="主体/网站" width="120"><template #default="{ row }">{{ row.subjects_imported }} / {{ row.rows_imported }}</template></el-table-column>
      <el-table-column label="上传时间" width="160"><template #default="{ row }">{{ fmtTime(row.created_at) }}</template></el-table-column>
      <el-table-column label="操作" width="100" class-name="no-print">
        <template #default="{ row }"><el-button text type="primary" @click="open(row.job_id)">查看</el-button></template>
      </el-table-column>
    </el-table>
  </page-card>`,
};
