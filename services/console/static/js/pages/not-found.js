// Unknown client route (the server's 404.html covers unknown files).
export default {
  name: 'NotFoundPage',
  template: `
  <el-result icon="warning" title="页面不存在" sub-title="您访问的页面不存在，或当前账户无权访问。" class="not-found">
    <template #extra>
      <router-link to="/"><el-button type="primary">返回首页</el-button></router-link>
    </template>
  </el-result>`,
};
