// 管局审核 → 意见反馈答复 (bureau: the feedback of its province; admin: all): read an opinion with
// the earlier replies and answer it. The status filter defaults to 待回复.
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { usePagedList } from '../lib/list.js';
import { fmtTime } from '../lib/format.js';

const { reactive } = Vue;

export default {
  name: 'FeedbackRepliesPage',
  setup() {
    const list = usePagedList('/filing/feedback', { status: 'OPEN' });
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const dialog = reactive({ open: false, row: null, content: '' });
    const STATUS = [{ value: 'OPEN', label: '待回复' }, { value: 'REPLIED', label: '已回复' }, { value: '', label: '全部' }];
    function open(row) { f.clear(); Object.assign(dialog, { open: true, row, content: '' }); }
    async function submit() {
      const out = await send(() => api.post(`/filing/feedback/${dialog.row.id}/replies`, { content: dialog.content }));
      if (out) {
        dialog.open = false;
        toastSuccess('答复已发送');
        list.refresh();
      }
    }
    return { busy, list, f, dialog, STATUS, open, submit, fmtTime };
  },
  template: `
  <page-card title="意见反馈答复">
    <el-form inline class="filters no-print" @submit.prevent="list.search()">
      <el-form-item label="状态">
        <el-select v-model="list.filters.status" style="width: 140px" placeholder="全部" data-test="filter-status">
          <el-option v-for="s in STATUS" :key="s.value" :label="s.label" :value="s.value" />
        </el-select>
      </el-form-item>
      <el-form-item><el-button type="primary" native-type="submit">查询</el-button></el-form-item>
    </el-form>
    <paged-table :list="list">
      <el-table-column type="expand">
        <template #default="{ row }"><feedback-thread :feedback="row" /></template>
      </el-table-column>
      <el-table-column prop="title" label="标题" min-width="200" />
      <el-table-column label="提出人" min-width="160">
        <template #default="{ row }">{{ row.author_name }}<span v-if="row.provider_name" class="hint">（{{ row.provider_name }}）</span></template>
      </el-table-column>
      <el-table-column label="提出时间" width="150"><template #default="{ row }">{{ fmtTime(row.created_at) }}</template></el-table-column>
      <el-table-column label="状态" width="90">
        <template #default="{ row }"><el-tag :type="row.status === 'REPLIED' ? 'success' : 'warning'">{{ row.status_name }}</el-tag></template>
      </el-table-column>
      <el-table-column label="操作" width="90" class-name="no-print">
        <template #default="{ row }"><el-button link type="primary" @click="open(row)" data-test="reply">答复</el-button></template>
      </el-table-column>
    </paged-table>
    <el-dialog v-model="dialog.open" title="答复意见反馈" width="min(600px, 95vw)">
      <template v-if="dialog.row">
        <p><strong>{{ dialog.row.title }}</strong></p>
        <p class="pre hint">{{ dialog.row.content }}</p>
        <el-form label-width="80px" @submit.prevent="submit">
          <el-form-item label="答复内容" :error="f.err('content')" required>
            <el-input v-model="dialog.content" type="textarea" :rows="5" maxlength="2000" show-word-limit name="content" />
          </el-form-item>
          <form-errors :form="f" />
        </el-form>
      </template>
      <template #footer>
        <el-button @click="dialog.open = false">取消</el-button>
        <el-button type="primary" :loading="busy" @click="submit" data-test="reply-submit">发送答复</el-button>
      </template>
    </el-dialog>
  </page-card>`,
};
