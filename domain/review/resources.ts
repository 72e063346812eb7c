// An advice as the API shows it (sql:check, plan checks): a module of its own, so the issue
// handlers' bundles describe advices without carrying the rules.
import * as z from 'zod/mini';

const Str = /* @__PURE__ */ z.string();
export const AdviceResource = /* @__PURE__ */ z.object({
  status: /* @__PURE__ */ z.enum(['ERROR', 'WARNING']),
  rule: Str,
  title: Str,
  content: Str,
  /** From 1, in the statement as sent. */
  line: /* @__PURE__ */ z.int(),
  /** From 1, in characters. */
  column: /* @__PURE__ */ z.int(),
});
