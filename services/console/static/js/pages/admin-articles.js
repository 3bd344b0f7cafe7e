// 系统管理 → 公告与法规 (admin): the home page's 通知公告 and 政策法规 — list, publish, edit, delete.
// A publication time in the future keeps an article hidden from the public until then.
import { api, toastSuccess } from '../lib/api.js';
import { useFieldErrors, useSubmit } from '../lib/form.js';
import { usePagedList } from '../lib/list.js';
import { fmtTime, fmtDate } from '../lib/format.js';
import { confirmAction } from '../lib/components.js';

const { reactive, computed } = Vue;
const { useRoute } = VueRouter;

export default {
  name: 'AdminArticlesPage',
  setup() {
    const route = useRoute();
    const law = route.path.endsWith('laws');
    const base = law ? '/filing/laws' : '/filing/announcements';
    const label = law ? '政策法规' : '通知公告';
    const list = usePagedList(base, { q: '' });
    const f = useFieldErrors();
    const { busy, send } = useSubmit(f);
    const dialog = reactive({ open: false, id: null });
    const blank = () => ({ title: '', body: '', issuer: '', document_no: '', effective_on: '', pinned: false, published_at: '' });
    const form = reactive(blank());
    function open(row) {
      f.clear();
      Object.assign(form, blank());
      dialog.id = row ? row.id : null;
      dialog.open = true;
      if (row) {
        api.get(`${base}/${row.id}`).then((a) => Object.assign(form, {
          title: a.title, body: a.body, issuer: a.issuer || '', document_no: a.document_no || '',
          effective_on: a.effective_on || '', pinned: a.pinned, published_at: a.published_at || '',
        }));
      }
    }
    async function submit() {
      const body = { title: form.title, body: form.body, pinned: form.pinned, published_at: form.published_at || null };
      if (law) Object.assign(body, { issuer: form.issuer || null, document_no: form.document_no || null, effective_on: form.effective_on || null });
      const out = await send(() => (dialog.id ? api.put(`${base}/${dialog.id}`, body) : api.post(base, body)));
      if (out) {
        dialog.open = false;
        toastSuccess(dialog.id ? '已保存' : '已发布');
        list.refresh();
      }
    }
    async function remove(row) {
      if (!(await confirmAction(`确定删除“${row.title}”？`, '删除' + label))) return;
      await api.del(`${base}/${row.id}`);
      toastSuccess('已删除');
      list.refresh();
    }
    const future = (row) => new Date(row.published_at) > new Date();
    const category = law ? 'law' : 'announcement';
    const dialogTitle = computed(() => (dialog.id ? '修改' : '发布') + label);
    return { busy, list, f, dialog, form, law, label, category, dialogTitle, open, submit, remove, future, fmtTime, fmtDate };
  },
  template: `
  <page-card :title="label + '管理'">
    <template #actions>
      <el-button type="primary" @click="open(null)" data-test="new-article">发布{{ label }}</el-button>
    </template>
    <el-form inline class="filters no-print" @submit.prevent="list.search()">
      <el-form-item label="标题"><el-input v-model="list.filters.q" clearable placeholder="包含" style="width: 220px" name="q" /></el-form-item>
      <el-form-item><el-button type="primary" native-type="submit">查询</el-button></el-form-item>
    </el-form>
    <paged-table :list="list">
      <el-table-column label="标题" min-width="260">
        <template #default="{ row }">
          <el-tag v-if="row.pinned" size="small" type="danger" class="tag-gap">置顶</el-tag>
          <router-link :to="'/articles/' + category + '/' + row.id">{{ row.title }}</router-link>
        </template>
      </el-table-column>
      <el-table-column v-if="law" prop="document_no" label="文号" min-width="150" />
      <el-table-column v-if="law" prop="issuer" label="发布机关" min-width="120" />
      <el-table-column label="发布时间" width="170">
        <template #default="{ row }">{{ fmtTime(row.published_at) }}<el-tag v-if="future(row)" size="small" type="info" class="tag-gap">待发布</el-tag></template>
      </el-table-column>
      <el-table-column label="操作" width="120" class-name="no-print">
        <template #default="{ row }">
          <el-button link type="primary" @click="open(row)">修改</el-button>
          <el-button link type="danger" @click="remove(row)">删除</el-button>
        </template>
      </el-table-column>
    </paged-table>
    <el-dialog v-model="dialog.open" :title="dialogTitle" width="min(760px, 95vw)">
      <el-form label-width="90px" @submit.prevent="submit">
        <el-form-item label="标题" :error="f.err('title')" required><el-input v-model="form.title" maxlength="200" show-word-limit name="title" /></el-form-item>
        <template v-if="law">
          <el-form-item label="发布机关" :error="f.err('issuer')"><el-input v-model="form.issuer" maxlength="100" name="issuer" /></el-form-item>
          <el-form-item label="文号" :error="f.err('document_no')"><el-input v-model="form.document_no" maxlength="100" name="document_no" placeholder="如 工业和信息化部令第24号" /></el-form-item>
          <el-form-item label="施行日期" :error="f.err('effective_on')">
            <el-date-picker v-model="form.effective_on" type="date" value-format="YYYY-MM-DD" placeholder="选择日期" />
          </el-form-item>
        </template>
        <el-form-item label="正文" :error="f.err('body')" required>
          <el-input v-model="form.body" type="textarea" :rows="10" maxlength="50000" name="body" />
        </el-form-item>
        <el-form-item label="发布时间" :error="f.err('published_at')">
          <el-date-picker v-model="form.published_at" type="datetime" placeholder="缺省为现在" />
          <span class="hint">　晚于现在则到时才公开</span>
        </el-form-item>
        <el-form-item label="置顶"><el-switch v-model="form.pinned" /></el-form-item>
        <form-errors :form="f" />
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">取消</el-button>
        <el-button type="primary" :loading="busy" @click="submit" data-test="save-article">保存</el-button>
      </template>
    </el-dialog>
  </page-card>`,
};
