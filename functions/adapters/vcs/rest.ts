// Reads migration files from the provider's REST API at the pushed commit, with the connector's
// access token: GitHub's contents API (raw media type), GitLab's repository files API (/raw).
// The token goes in a header only; no error message, log line or return value carries it.
import type { VcsConnector, VcsFileReader } from '../../../domain/gitops/vcs.js';

const TIMEOUT_MS = 10_000;

/** A provider failure worth a retry of the whole delivery (5xx, timeout, network). */
export class VcsProviderError extends Error {
  override readonly name: string = 'VcsProviderError';
}

function request(c: VcsConnector, token: string, path: string, commit: string): { url: string; headers: Record<string, string> } {
  const ref = encodeURIComponent(commit);
  if (c.provider === 'GITHUB') {
    const file = path.split('/').map(encodeURIComponent).join('/');
    return {
      url: `${c.apiUrl}/repos/${c.repository}/contents/${file}?ref=${ref}`,
      headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.github.raw+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'sluice-gitops' },
    };
  }
  return {
    url: `${c.apiUrl}/projects/${encodeURIComponent(c.repository)}/repository/files/${encodeURIComponent(path)}/raw?ref=${ref}`,
    headers: { 'private-token': token, 'user-agent': 'sluice-gitops' },
  };
}

export const restFileReader = (fetchImpl: typeof fetch = fetch): VcsFileReader => ({
  async readFile(connector, token, path, commit) {
    const { url, headers } = request(connector, token, path, commit);
    let res: Response;
    try {
      res = await fetchImpl(url, { headers, redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (e) {
      throw new VcsProviderError(`${connector.provider} API at ${connector.apiUrl} did not answer: ${(e as Error).name}`);
    }
    if (res.status === 404) return { found: false, reason: `not found in ${connector.repository} at ${commit} (removed later, or the token cannot read it)` };
    if (res.status === 401 || res.status === 403) {
      return { found: false, reason: `${connector.provider} refused the access token (HTTP ${res.status}); PUT the connector with a token that can read ${connector.repository}` };
    }
    if (!res.ok) throw new VcsProviderError(`${connector.provider} API answered HTTP ${res.status} for ${path}`);
    return { found: true, content: await res.text() };
  },
});
