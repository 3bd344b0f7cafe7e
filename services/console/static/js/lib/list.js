// A server-paged list whose filters and page live in the URL query, so a reload or a shared
// link shows the same list:
//
//   const list = usePagedList('/filing/subjects', { name: '', status: '' });
//   list.filters.name = '…'; list.search();   // → #/records/subjects?name=…&page=1 → GET …
//   <paged-table :list="list"> <el-table-column …/> </paged-table>
//
// `filters` holds the form's values (strings, or arrays for multi-selects); `search()` writes them
// to the URL; a change of the URL (search, pager, back button, reload) loads the page.
import { api } from './api.js';

const { reactive, ref, watch, onMounted } = Vue;
const { useRoute, useRouter } = VueRouter;

export function usePagedList(path, defaults = {}, { pageSize = 20, transform, immediate = true } = {}) {
  const route = useRoute();
  const router = useRouter();
  const filters = reactive({ ...defaults });
  const rows = ref([]);
  const total = ref(0);
  const page = ref(1);
  const size = ref(pageSize);
  const loading = ref(false);
  const loaded = ref(false);
  const ownPath = route.path;

  function fromQuery(q) {
    for (const k of Object.keys(defaults)) {
      const v = q[k];
      if (Array.isArray(defaults[k])) filters[k] = v === undefined ? [...defaults[k]] : [].concat(v);
      else filters[k] = v === undefined ? defaults[k] : v === null ? '' : String(v);
    }
    page.value = Math.max(1, parseInt(q.page, 10) || 1);
    size.value = Math.max(1, parseInt(q.page_size, 10) || pageSize);
  }

  function toQuery() {
    const q = {};
    for (const [k, v] of Object.entries(filters)) {
      if (Array.isArray(v) ? v.length : v !== '' && v !== null && v !== undefined) q[k] = v;
      // a filter cleared on purpose whose default is not empty ("全部" against a default of "待回复"):
      // `k=` stays in the URL, so a reload keeps "全部" instead of bringing the default back
      else if (!Array.isArray(v) && defaults[k] !== '' && defaults[k] !== undefined) q[k] = '';
    }
    if (page.value > 1) q.page = String(page.value);
    if (size.value !== pageSize) q.page_size = String(size.value);
    return q;
  }

  async function load() {
    loading.value = true;
    try {
      const out = await api.get(path, { query: { ...toQuery(), page: page.value, page_size: size.value } });
      rows.value = transform ? out.items.map(transform) : out.items;
      total.value = out.total;
      loaded.value = true;
    } finally {
      loading.value = false;
    }
  }

  function push() {
    const q = toQuery();
    const same = JSON.stringify(q) === JSON.stringify(Object.fromEntries(
      Object.entries(route.query).map(([k, v]) => [k, Array.isArray(v) ? v : String(v)])));
    if (same) return load(); // the same URL again ("查询" twice): load anyway
    return router.push({ path: ownPath, query: q });
  }

  const list = {
    filters, rows, total, page, size, loading, loaded, load,
    /** Apply the filters (back to page 1). */
    search() { page.value = 1; return push(); },
    reset() { fromQuery({}); return push(); },
    setPage(n) { page.value = n; return push(); },
    setSize(n) { size.value = n; page.value = 1; return push(); },
    /** Load again with the same URL (after an action changed a row). */
    refresh: load,
  };

  watch(() => route.query, (q) => {
    if (route.path !== ownPath) return;
    fromQuery(q);
    load();
  });
  fromQuery(route.query);
  if (immediate) onMounted(load);
  return list;
}
