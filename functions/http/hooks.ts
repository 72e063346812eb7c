// The VCS webhook, POST /v1/hooks/vcs/{project}: public on the gateway, authenticated by the
// provider's signature. Small on purpose (it answers within the provider's 10 s, cold or not):
// it records the delivery and hands it to the GitOps worker.
import { receiveWebhook } from '../../domain/gitops/vcs.js';
import { httpHandler } from '../shared/http.js';
import { vcsDispatcher } from '../shared/vcs-dispatch.js';
import { vcsRepo, vcsSecrets } from '../shared/wiring-vcs.js';
import { audit } from '../shared/wiring.js';

export const handler = httpHandler('hooks', { audit }, {
  receiveVcsWebhook: async (req) => {
    const reply = await receiveWebhook({ vcs: vcsRepo, secrets: vcsSecrets, dispatcher: vcsDispatcher, now: () => new Date(), log: req.log }, req.params.project!, req.rawBody, req.headers);
    return { status: reply.status, body: reply.body };
  },
});
