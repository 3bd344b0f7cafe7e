// The first page after login: who is logged in and the role's menu as shortcuts.
import { menuFor } from '../menu.js';
import { ROLE_LABELS, session } from '../lib/session.js';
import { fmtTime } from '../lib/format.js';

export default {
  name: 'WelcomePage',
  setup() {
    const groups = Vue.computed(() => menuFor(session.user.role));
    return { session, groups, ROLE_LABELS, fmtTime };
  },
  template: `
  <page-card title="欢迎使用">
    <detail-view :items="[
      { label: '用户名', value: session.user.username },
      { label: '姓名/名称', value: session.user.display_name },
      { label: '角色', value: ROLE_LABELS[session.user.role] },
      { label: '所属单位', value: session.user.provider_name || session.user.province_name },
      { label: '最近登录', value: fmtTime(session.user.last_login_at) },
    ]" />
    <div class="shortcuts">
      <el-card v-for="g in groups" :key="g.key" shadow="never" class="shortcut-group">
        <template #header><strong>{{ g.title }}</strong></template>
        <router-link v-for="it in g.items" :key="it.path" :to="it.path" class="shortcut">{{ it.title }}</router-link>
      </el-card>
    </div>
  </page-card>`,
};
