// A filed subject opened with its sponsor's username and password (权限验证 on 查找已备案主体), handed to the
// page that goes on with it (新增网站): the subject as the check answered it and the credentials to send
// again with the application. In memory only and taken once: a reload asks again, and the password
// never goes into the URL or the browser's storage.
let grant = null;

export function grantSubject(subject, sponsor) {
  grant = { subject, sponsor: { username: sponsor.username, password: sponsor.password } };
}

/** The grant for this subject id (then forgotten), or null. */
export function takeGrant(subjectId) {
  const g = grant && grant.subject.id === subjectId ? grant : null;
  grant = null;
  return g;
}
