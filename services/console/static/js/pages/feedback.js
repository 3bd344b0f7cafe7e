// 1.13 意见反馈: the user's earlier feedback (a bureau reviewer: the province's) with the
// bureau's replies; "提出新意见" sends a new one to the bureau (providers and sponsors).
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { usePagedList } from '../lib/list.js';
import { fmtTime } from '../lib/format.js';
import { hasRole } from '../lib/session.js';

export default {
  name: 'FeedbackPage',
  setup() {
    const list = usePagedList('/filing/feedback', { status: '' });
    const dialog = Vue.ref(false);
    const form = Vue.reactive({ title: '', content: '', contact: '' });
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const canSubmit = Vue.computed(() => hasRole('provider', 'sponsor'));
    const STATUS = [{ value: 'OPEN', label: '待回复' }, { value: 'REPLIED', label: '已回复' }];
    function open() { f.clear(); Object.assign(form, { title: '', content: '', contact: '' }); dialog.value = true; }
    async function submit() {
      const out = await send(() => api.post('/filing/feedback',
        { title: form.title, content: form.content, contact: form.contact || null }));
      if (out) {
        dialog.value = false;
        toastSuccess('意见已提交');
        list.search();
      }
    }
    return { list, dialog, form, f, busy, canSubmit, open, submit, fmtTime, STATUS };
  },
  template: `
  <page-card title="意见反馈">
    <template #actions>
      <el-button v-if="canSubmit" type="primary" @click="open" data-test="new-feedback">提出新意见</el-button>
    </template>
    <el-form inline class="filters no-print" @submit.prevent="list.search()">
      <el-form-item label="状态">
        <el-select v-model="list.filters.status" clearable placeholder="全部" style="width: 140px">
          <el-option v-for="s in STATUS" :key="s.value" :label="s.label" :value="s.value" />
        </el-select>
      </el-form-item>
      <el-form-item><el-button type="primary" native-type="submit">查询</el-button></el-form-item>
    </el-form>
    <paged-table :list="list">
      <el-table-column type="expand">
        <template #default="{ row }"><feedback-thread :feedback="row" pending="管局尚未答复" /></template>
      </el-table-column>
      <el-table-column prop="title" label="标题" min-width="200" />
      <el-table-column prop="author_name" label="提出人" width="140" />
      <el-table-column label="提出时间" width="160"><template #default="{ row }">{{ fmtTime(row.created_at) }}</template></el-table-column>
      <el-table-column prop="province_name" label="受理管局" width="120" />
      <el-table-column label="状态" width="100">
        <template #default="{ row }">
          <el-tag :type="row.status === 'REPLIED' ? 'success' : 'info'">{{ row.status_name }}</el-tag>
        </template>
      </el-table-column>
    </paged-table>
    <el-dialog v-model="dialog" title="提出新意见" width="min(600px, 95vw)">
      <el-form :model="form" label-width="80px" @submit.prevent="submit">
        <el-form-item label="标题" :error="f.err('title')" required>
          <el-input v-model="form.title" maxlength="100" show-word-limit name="title" />
        </el-form-item>
        <el-form-item label="内容" :error="f.err('content')" required>
          <el-input v-model="form.content" type="textarea" :rows="6" maxlength="2000" show-word-limit name="content" />
        </el-form-item>
        <el-form-item label="联系方式" :error="f.err('contact')">
          <el-input v-model="form.contact" maxlength="100" name="contact" />
        </el-form-item>
        <form-errors :form="f" />
      </el-form>
      <template #footer>
        <el-button @click="dialog = false">取消</el-button>
        <el-button type="primary" :loading="busy" @click="submit" data-test="submit-feedback">提交</el-button>
      </template>
    </el-dialog>
  </page-card>`,
};
