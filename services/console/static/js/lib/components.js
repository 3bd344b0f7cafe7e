// Shared components, registered globally by main.js (use them in any page template):
//
//   <page-card title="…">…</page-card>                         a page's frame with its title
//   <paged-table :list="list">columns</paged-table>           table + pager of usePagedList (lib/list.js)
//   <list-filters :list="list">filter items</list-filters>    its inline filter form with 查询 and 重置
//       (slot #actions: more buttons beside them, e.g. an export)
//   <code-select v-model="x" table="unit_natures" />          a code table as a select (Chinese names)
//       props: multiple, filter (e.g. {nature: 'ENTERPRISE'}), codes (restrict to these), clearable
//   <code-name table="provinces" :code="x" />                 a code shown by its Chinese name
//   <region-select v-model:province v-model:city v-model:county />   GB/T 2260 cascade
//   <form-errors :form="f" />                                 field errors no form item showed (lib/form.js)
//   <detail-view :items="[{label, value}]" :column="2" />     label/value pairs (el-descriptions)
//   <feedback-thread :feedback="row" pending="管局尚未答复" />  a feedback (1.13): its text, contact, replies
//   confirmAction('确定删除？') → Promise<boolean>            a confirm dialog (exported function)
import { codeName, loadCodes, loadRegions } from './codes.js';
import { fmtTime } from './format.js';

const { ref, computed, watch, onMounted } = Vue;
const { ElMessageBox } = ElementPlus;

export async function confirmAction(message, title = '请确认', confirmText = '确定') {
  try {
    await ElMessageBox.confirm(message, title, { type: 'warning', confirmButtonText: confirmText, cancelButtonText: '取消' });
    return true;
  } catch (e) {
    return false;
  }
}

const PageCard = {
  name: 'PageCard',
  props: { title: String },
  template: `
  <section class="page-card">
    <header class="page-card-header">
      <h2 class="page-title">{{ title }}</h2>
      <div class="page-actions no-print"><slot name="actions" /></div>
    </header>
    <div class="page-card-body"><slot /></div>
  </section>`,
};

const PagedTable = {
  name: 'PagedTable',
  props: { list: { type: Object, required: true }, rowKey: { type: String, default: 'id' } },
  template: `
  <div class="paged-table">
    <el-table :data="list.rows.value" v-loading="list.loading.value" :row-key="rowKey" border stripe
              empty-text="暂无数据" style="width: 100%">
      <slot />
    </el-table>
    <el-pagination class="pager no-print" background layout="total, sizes, prev, pager, next, jumper"
      :total="list.total.value" :current-page="list.page.value" :page-size="list.size.value"
      :page-sizes="[10, 20, 50, 100]"
      @current-change="list.setPage" @size-change="list.setSize" />
  </div>`,
};

// The filters of a usePagedList page: its form items, then 查询 (submit: list.search()) and 重置 (list.reset()).
const ListFilters = {
  name: 'ListFilters',
  props: { list: { type: Object, required: true } },
  template: `
  <el-form inline class="filters no-print" @submit.prevent="list.search()">
    <slot />
    <el-form-item>
      <el-button type="primary" native-type="submit" data-test="search">查询</el-button>
      <el-button @click="list.reset()">重置</el-button>
      <slot name="actions" />
    </el-form-item>
  </el-form>`,
};

const CodeSelect = {
  name: 'CodeSelect',
  props: {
    modelValue: [String, Array],
    table: { type: String, required: true },
    multiple: Boolean,
    filter: Object,
    codes: Array,
    clearable: { type: Boolean, default: true },
    placeholder: { type: String, default: '请选择' },
  },
  emits: ['update:modelValue', 'change'],
  setup(props, { emit }) {
    const rows = ref([]);
    const loading = ref(false);
    async function load() {
      loading.value = true;
      try {
        const items = await loadCodes(props.table, props.filter || {});
        rows.value = props.codes ? items.filter((r) => props.codes.includes(r.code)) : items;
      } finally {
        loading.value = false;
      }
    }
    watch(() => [props.table, JSON.stringify(props.filter), JSON.stringify(props.codes)], load);
    onMounted(load);
    const value = computed({
      get: () => (props.multiple ? props.modelValue || [] : props.modelValue ?? ''),
      set: (v) => { emit('update:modelValue', v); emit('change', v); },
    });
    return { rows, loading, value };
  },
  template: `
  <el-select v-model="value" :multiple="multiple" :clearable="clearable" filterable :loading="loading"
             :placeholder="placeholder" style="width: 100%">
    <el-option v-for="r in rows" :key="r.code" :label="r.name_zh" :value="r.code" />
  </el-select>`,
};

const CodeName = {
  name: 'CodeName',
  props: { table: String, code: [String, Array] },
  setup(props) {
    const text = computed(() => [].concat(props.code || []).map((c) => codeName(props.table, c)).join('、'));
    return { text };
  },
  template: `<span>{{ text }}</span>`,
};

const RegionSelect = {
  name: 'RegionSelect',
  props: { province: String, city: String, county: String, provinces: Array },
  emits: ['update:province', 'update:city', 'update:county'],
  setup(props, { emit }) {
    const tree = ref([]);
    onMounted(async () => { tree.value = await loadRegions(); });
    const provinceRows = computed(() => tree.value.filter((p) => !props.provinces || props.provinces.includes(p[0])));
    const cityRows = computed(() => (tree.value.find((p) => p[0] === props.province) || [null, null, []])[2]);
    const countyRows = computed(() => (cityRows.value.find((c) => c[0] === props.city) || [null, null, []])[2]);
    function setProvince(v) { emit('update:province', v || ''); emit('update:city', ''); emit('update:county', ''); }
    function setCity(v) { emit('update:city', v || ''); emit('update:county', ''); }
    function setCounty(v) { emit('update:county', v || ''); }
    return { provinceRows, cityRows, countyRows, setProvince, setCity, setCounty };
  },
  template: `
  <div class="region-select">
    <el-select :model-value="province || ''" @update:model-value="setProvince" placeholder="省" filterable clearable
               data-test="region-province">
      <el-option v-for="p in provinceRows" :key="p[0]" :label="p[1]" :value="p[0]" />
    </el-select>
    <el-select :model-value="city || ''" @update:model-value="setCity" placeholder="市" filterable clearable
               :disabled="!province" data-test="region-city">
      <el-option v-for="c in cityRows" :key="c[0]" :label="c[1]" :value="c[0]" />
    </el-select>
    <el-select :model-value="county || ''" @update:model-value="setCounty" placeholder="县/区" filterable clearable
               :disabled="!city" data-test="region-county">
      <el-option v-for="k in countyRows" :key="k[0]" :label="k[1]" :value="k[0]" />
    </el-select>
  </div>`,
};

const FormErrors = {
  name: 'FormErrors',
  // label: optional path → Chinese field name (e.g. filingFieldLabel from record-views.js)
  props: { form: { type: Object, required: true }, label: Function },
  template: `
  <el-alert v-if="form.unclaimed().length" type="error" :closable="false" show-icon class="form-errors"
            title="以下信息需要修改">
    <ul><li v-for="e in form.unclaimed()" :key="e.field + e.message">
      <template v-if="label && label(e.field)">{{ label(e.field) }}：</template>{{ e.message }}</li></ul>
  </el-alert>`,
};

const DetailView = {
  name: 'DetailView',
  props: { items: { type: Array, required: true }, column: { type: Number, default: 2 }, title: String },
  setup(props) {
    const narrow = ref(window.innerWidth < 900);
    const cols = computed(() => (narrow.value ? 1 : props.column));
    return { cols };
  },
  template: `
  <el-descriptions :title="title" :column="cols" border class="detail-view">
    <el-descriptions-item v-for="it in items" :key="it.label" :label="it.label" :span="it.span || 1">
      {{ it.value === null || it.value === undefined || it.value === '' ? '—' : it.value }}
    </el-descriptions-item>
  </el-descriptions>`,
};

// A date range filter (起 … 至 … 止): <date-range v-model:from="list.filters.x_from" v-model:to="list.filters.x_to" />
const DateRange = {
  name: 'DateRange',
  props: { from: String, to: String },
  emits: ['update:from', 'update:to'],
  template: `
  <div class="date-range">
    <el-date-picker :model-value="from" @update:model-value="$emit('update:from', $event)" type="date"
                    value-format="YYYY-MM-DD" placeholder="起" style="width: 140px" />
    <span class="range-sep">至</span>
    <el-date-picker :model-value="to" @update:model-value="$emit('update:to', $event)" type="date"
                    value-format="YYYY-MM-DD" placeholder="止" style="width: 140px" />
  </div>`,
};

// A feedback's thread (意见反馈, 1.13): what was asked, the contact, the bureau's replies in order;
// `pending`: what to say while there is no reply (nothing when empty). Shown by the asker's page and the
// bureau's reply page alike.
const FeedbackThread = {
  name: 'FeedbackThread',
  props: { feedback: { type: Object, required: true }, pending: { type: String, default: '' } },
  setup() {
    return { fmtTime };
  },
  template: `
  <div class="feedback-detail">
    <p class="pre">{{ feedback.content }}</p>
    <p v-if="feedback.contact">联系方式：{{ feedback.contact }}</p>
    <el-timeline v-if="feedback.replies.length">
      <el-timeline-item v-for="r in feedback.replies" :key="r.id" :timestamp="fmtTime(r.created_at) + '　' + r.author_name">
        <span class="pre">{{ r.content }}</span>
      </el-timeline-item>
    </el-timeline>
    <p v-else-if="pending" class="hint">{{ pending }}</p>
  </div>`,
};

export function installComponents(app) {
  for (const c of [PageCard, PagedTable, ListFilters, CodeSelect, CodeName, RegionSelect, FormErrors, DetailView, DateRange,
    FeedbackThread]) {
    app.component(c.name, c);
  }
}
