// 自主备案 (sponsor): the entry wizard of 1.3.1 (pages/entry.js) in self-filing mode — the same drafts API,
// steps and forms, without access information; submitted to the province's bureau, no credentials to hand on.
import EntryPage from './entry.js';

export default {
  name: 'SelfFilingPage',
  components: { EntryPage },
  template: '<entry-page self-filing />',
};
