// Field errors of the server (422/409 `errors: [{field, message}]`) beside their fields.
//
//   const f = useFieldErrors();
//   <el-form-item label="网站名称" :error="f.err('websites[0].name')"> … </el-form-item>
//   await f.run(() => api.put(...))      // clears, calls, maps errors; returns the result or null
//   const { busy, send } = useSubmit(f)  // send(call): f.run with a busy flag for the button
//   <form-errors :form="f" />           // after the fields: the errors no field showed, and a count
//
// Paths are the API's: `subject.principal.mobile`, `websites[1].domains[0]`. `err(path)` also
// answers for errors under that path (`websites[0].domains` shows `websites[0].domains[0]`).
import { api, ApiError, closeErrorToasts, toastError } from './api.js';

export function useFieldErrors() {
  const state = Vue.reactive({ errors: [], detail: '' });
  const claimed = new Set(); // paths some form item displayed during the last render

  function matches(path, field) {
    return field === path || field.startsWith(path + '.') || field.startsWith(path + '[');
  }

  const f = {
    state,
    /** The message(s) to show beside the field at `path` ('' when none). */
    err(path) {
      const hits = state.errors.filter((e) => matches(path, e.field));
      hits.forEach((e) => claimed.add(e.field));
      return hits.map((e) => e.message).join('；');
    },
    has(prefix) {
      return state.errors.some((e) => matches(prefix, e.field));
    },
    /** Errors no `err()` call displayed (rendered after the fields). */
    unclaimed() {
      return state.errors.filter((e) => !claimed.has(e.field));
    },
    clear() {
      state.errors = [];
      state.detail = '';
      claimed.clear();
    },
    set(errors, detail = '') {
      claimed.clear();
      state.errors = errors || [];
      state.detail = detail;
    },
    /** Take a caught error: field errors are kept and shown; anything else is rethrown. */
    take(e) {
      if (e instanceof ApiError && (e.status === 422 || e.status === 409 || e.status === 400) && !e.handled) {
        f.set(e.errors, e.detail);
        // the detail names API paths; with field errors the toast only counts them (shown beside the fields)
        const saved = e.body && e.body.saved ? '已保存到草稿，' : '';
        toastError(e.errors.length ? `${saved}有 ${e.errors.length} 处信息需要修改，请按字段旁的提示修改` : e.detail);
        Vue.nextTick(() => {
          const el = document.querySelector('.el-form-item.is-error');
          if (el && el.scrollIntoView) el.scrollIntoView({ block: 'center' });
        });
        return;
      }
      throw e;
    },
    /** Run an API call: clear errors first; on a field error answer show them and return null. */
    async run(fn) {
      f.clear();
      try {
        const out = await fn();
        closeErrorToasts(); // a refusal's toast is stale once the form goes through
        return out;
      } catch (e) {
        f.take(e);
        return null;
      }
    },
  };
  return f;
}

/**
 * A form's submit button: `send(call)` runs a request through the field errors `f` (`f.run`) with `busy`
 * true meanwhile (the button's :loading), and returns its result, or null on a refusal.
 *
 *   const { busy, send } = useSubmit(f);
 *   const out = await send(() => api.post('/filing/feedback', body));  if (out) { … }
 */
export function useSubmit(f) {
  const busy = Vue.ref(false);
  async function send(call) {
    busy.value = true;
    try {
      return await f.run(call);
    } finally {
      busy.value = false;
    }
  }
  return { busy, send };
}

/**
 * The captcha of a public form (login, registration): loads one on mount into `form.captcha_id` and
 * `image`; `refresh()` loads a new one and clears the typed answer (a captcha answers once).
 *
 *   const { image, refresh: refreshCaptcha } = useCaptcha(form);
 */
export function useCaptcha(form) {
  const image = Vue.ref('');
  async function refresh() {
    const c = await api.get('/filing/captcha', { auth: false });
    form.captcha_id = c.captcha_id;
    image.value = c.image;
    form.captcha = '';
  }
  Vue.onMounted(refresh);
  return { image, refresh };
}

/**
 * A page that edits or acts on one record: loads `path` on mount (a 404 sets `missing`), builds the
 * form's model with `toModel(record)` when given, and `send(call)` runs a request with the busy flag
 * and the field errors (returns its result, or null on a refusal). `initial`: the record already at
 * hand (e.g. answered by a sponsor-credential check), not loaded again.
 *
 *   const { record, model, missing, f, busy, send } = useRecordPage(`/filing/websites/${id}`, websiteFromRecord);
 */
export function useRecordPage(path, toModel = null, { initial = null } = {}) {
  const record = Vue.ref(null);
  const model = Vue.ref(null);
  const missing = Vue.ref(false);
  const f = useFieldErrors();
  const { busy, send } = useSubmit(f);
  Vue.onMounted(async () => {
    try {
      record.value = initial || await api.get(path);
      if (toModel) model.value = Vue.reactive(toModel(record.value));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) missing.value = true;
      else throw e;
    }
  });
  return { record, model, missing, f, busy, send };
}
