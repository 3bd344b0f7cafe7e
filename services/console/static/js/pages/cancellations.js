// 1.5.2 注销主体申请 / 1.5.3 注销网站申请 (one page, the target type from the route). The query
// "是否已提出注销申请": 未提出 lists the numbered subjects/websites this provider accesses with
// "提出注销申请"; the others list the requests with "修改" / "删除" (not yet with the bureau) and
// "再次提出" (rejected). Cancelling a subject cancels all its websites.
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { usePagedList } from '../lib/list.js';
import { fmtTime } from '../lib/format.js';
import { confirmAction } from '../lib/components.js';
import { RECORD_VIEWS } from '../lib/record-views.js';

const { ref, reactive, computed } = Vue;
const { useRoute } = VueRouter;

const STATUSES = [
  { value: 'NOT_APPLIED', label: '未提出' },
  { value: '', label: '已提出（全部）' },
  { value: 'APPLIED', label: '已提出（待管局审核）' },
  { value: 'REJECTED', label: '拒绝' },
  { value: 'APPROVED', label: '已注销' },
];

export default {
  name: 'CancellationsPage',
  components: RECORD_VIEWS,
  setup() {
    const route = useRoute();
    const targetType = route.path.endsWith('subject') ? 'SUBJECT' : 'WEBSITE';
    const kind = targetType === 'SUBJECT' ? '主体' : '网站';
    const list = usePagedList('/filing/cancellations', { target_type: targetType, status: 'NOT_APPLIED', number: '', name: '' });
    list.filters.target_type = targetType;
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const dialog = reactive({ open: false, mode: 'apply', row: null });
    const form = reactive({ reason_code: '', reason: '' });
    const detail = ref(null);
    const titles = { apply: '提出注销申请', modify: '修改注销申请', reapply: '再次提出注销申请' };

    function open(mode, row) {
      f.clear();
      Object.assign(form, mode === 'apply' ? { reason_code: '', reason: '' }
        : { reason_code: row.reason_code || '', reason: row.reason || '' });
      Object.assign(dialog, { open: true, mode, row });
    }
    async function submit() {
      const row = dialog.row;
      const body = { reason_code: form.reason_code, reason: form.reason };
      const out = await send(() => {
        if (dialog.mode === 'apply') return api.post('/filing/cancellations', { target_type: targetType, target_id: row.target_id, ...body });
        if (dialog.mode === 'modify') return api.put(`/filing/cancellations/${row.id}`, body);
        return api.post(`/filing/cancellations/${row.id}/reapply`, body);
      });
      if (out) {
        dialog.open = false;
        toastSuccess(dialog.mode === 'modify' ? '注销申请已修改' : '注销申请已提交');
        list.refresh();
      }
    }
    async function remove(row) {
      if (!(await confirmAction(`确定删除“${row.target_name}”的注销申请？删除后可重新提出。`, '删除注销申请'))) return;
      await api.del(`/filing/cancellations/${row.id}`);
      toastSuccess('注销申请已删除');
      list.refresh();
    }
    async function show(row) {
      detail.value = await api.get(`/filing/cancellations/${row.id}`);
    }
    const reasonFilter = computed(() => ({ applies_to: targetType }));
    return { busy, list, f, dialog, form, detail, titles, kind, targetType, STATUSES, reasonFilter, open, submit, remove,
      show, fmtTime };
  },
  template: `
  <page-card :title="'注销' + kind + '申请'">
    <el-alert v-if="targetType === 'SUBJECT'" type="warning" :closable="false" show-icon class="form-errors no-print"
              title="注销主体将同时注销该主体下的全部网站；注销经管局审核通过后不可恢复。" />
    <el-alert v-else type="info" :closable="false" show-icon class="form-errors no-print"
              title="注销网站仅注销该网站，主体及其他网站保留；注销经管局审核通过后不可恢复。" />
    <el-form inline class="filters no-print" @submit.prevent="list.search()" data-test="cancel-filters">
      <el-form-item label="是否已提出注销申请">
        <el-select v-model="list.filters.status" style="width: 170px" placeholder="已提出（全部）" data-test="filter-status">
          <el-option v-for="s in STATUSES" :key="s.value" :label="s.label" :value="s.value" />
        </el-select>
      </el-form-item>
      <el-form-item label="备案号">
        <el-input v-model="list.filters.number" clearable placeholder="包含" style="width: 200px" name="number" />
      </el-form-item>
      <el-form-item :label="targetType === 'SUBJECT' ? '主办单位名称' : '网站或主办单位名称'">
        <el-input v-model="list.filters.name" clearable placeholder="包含" style="width: 180px" name="name" />
      </el-form-item>
      <el-form-item>
        <el-button type="primary" native-type="submit" data-test="search">查询</el-button>
      </el-form-item>
    </el-form>
    <paged-table :list="list" row-key="target_id">
      <el-table-column :label="targetType === 'SUBJECT' ? '主办单位名称' : '网站名称'" min-width="170">
        <template #default="{ row }">
          <router-link :to="(targetType === 'SUBJECT' ? '/records/subjects/' : '/records/websites/') + row.target_id">{{ row.target_name }}</router-link>
        </template>
      </el-table-column>
      <el-table-column v-if="targetType === 'WEBSITE'" prop="subject_name" label="主办单位名称" min-width="160" />
      <el-table-column prop="target_no" label="备案号" min-width="180" />
      <el-table-column label="处理状态" width="180">
        <template #default="{ row }"><status-tag :status="row.status" :name="row.status_name" /></template>
      </el-table-column>
      <el-table-column label="注销原因" min-width="170">
        <template #default="{ row }">{{ row.reason_name || '—' }}<span v-if="row.reason">（{{ row.reason }}）</span></template>
      </el-table-column>
      <el-table-column label="管局意见" min-width="140">
        <template #default="{ row }">{{ row.bureau_reason || '—' }}</template>
      </el-table-column>
      <el-table-column label="提出时间" width="150">
        <template #default="{ row }">{{ fmtTime(row.created_at) || '—' }}</template>
      </el-table-column>
      <el-table-column label="操作" min-width="200" class-name="no-print">
        <template #default="{ row }">
          <div class="row-actions">
            <el-button v-if="row.can_apply" link type="primary" @click="open('apply', row)" data-test="cancel-apply">提出注销申请</el-button>
            <el-button v-if="row.can_modify" link type="primary" @click="open('modify', row)" data-test="cancel-modify">修改注销申请</el-button>
            <el-button v-if="row.can_delete" link type="danger" @click="remove(row)" data-test="cancel-delete">删除注销申请</el-button>
            <el-button v-if="row.can_reapply" link type="primary" @click="open('reapply', row)" data-test="cancel-reapply">再次提出注销申请</el-button>
            <el-button v-if="row.id" link @click="show(row)">办理记录</el-button>
          </div>
        </template>
      </el-table-column>
    </paged-table>

    <el-dialog v-model="dialog.open" :title="titles[dialog.mode]" width="min(560px, 95vw)">
      <el-form v-if="dialog.row" label-width="90px" @submit.prevent="submit">
        <el-form-item :label="'注销' + kind">{{ dialog.row.target_name }}（{{ dialog.row.target_no }}）</el-form-item>
        <el-form-item label="注销原因" :error="f.err('reason_code')" required>
          <code-select v-model="form.reason_code" table="cancel_reasons" :filter="reasonFilter" data-test="reason-code" />
        </el-form-item>
        <el-form-item label="原因说明" :error="f.err('reason')" :required="form.reason_code === 'OTHER'">
          <el-input v-model="form.reason" type="textarea" :rows="3" maxlength="500" show-word-limit name="reason"
                    :placeholder="form.reason_code === 'OTHER' ? '选择“其他”时必填' : '可选'" />
        </el-form-item>
        <form-errors :form="f" />
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">取消</el-button>
        <el-button type="primary" :loading="busy" @click="submit" data-test="cancel-submit">提交</el-button>
      </template>
    </el-dialog>

    <el-drawer :model-value="!!detail" @update:model-value="detail = null" title="注销申请办理记录" size="min(520px, 95vw)">
      <template v-if="detail">
        <detail-view :column="1" :items="[
          { label: '注销对象', value: detail.target_name + '（' + (detail.target_no || '—') + '）' },
          { label: '处理状态', value: detail.status_name },
          { label: '注销原因', value: (detail.reason_name || '') + (detail.reason ? '：' + detail.reason : '') },
          { label: '管局意见', value: detail.bureau_reason },
        ]" />
        <el-timeline>
          <el-timeline-item v-for="(h, i) in detail.history" :key="i" :timestamp="fmtTime(h.at)">
            {{ h.name }}<span v-if="h.kind === 'review' && h.reason">：{{ h.reason }}</span>
          </el-timeline-item>
        </el-timeline>
      </template>
    </el-drawer>
  </page-card>`,
};
