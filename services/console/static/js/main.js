// Start-up: Vue + Element Plus (zh-cn) + icons (as <icon-name>) + shared components + router.
import App from './app.js';
import { router } from './router.js';
import { ApiError, toastError } from './lib/api.js';
import { clearSession } from './lib/session.js';
import { installComponents } from './lib/components.js';

const app = Vue.createApp(App);
app.use(ElementPlus, { locale: ElementPlusLocaleZhCn });
for (const [name, component] of Object.entries(ElementPlusIconsVue)) app.component('Icon' + name, component);
installComponents(app);
app.use(router);

// An ApiError nobody caught: show its Chinese detail (5xx/network/401 were already handled).
function unhandled(err) {
  if (err instanceof ApiError) {
    if (!err.handled) toastError(err.detail);
    return true;
  }
  return false;
}
app.config.errorHandler = (err) => {
  if (!unhandled(err)) {
    console.error(err); // a bug: the browser tests fail on it
    toastError('页面出现错误，请刷新后重试');
  }
};
window.addEventListener('unhandledrejection', (ev) => {
  if (unhandled(ev.reason)) ev.preventDefault();
});

// 401 anywhere: the session is gone; back to the login box, then to where the user was.
window.addEventListener('icp:unauthorized', () => {
  const here = router.currentRoute.value;
  clearSession();
  if (here.name !== 'home') {
    toastError('登录已失效，请重新登录');
    router.replace({ name: 'home', query: here.meta.public ? {} : { redirect: here.fullPath } });
  }
});

router.isReady().then(() => app.mount('#app'));
