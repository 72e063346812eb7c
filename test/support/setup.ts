import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Every test file: quiet logs unless asked, and no Node 20 notice from the AWS SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.LOG_LEVEL ??= 'silent';
process.env.AWS_REGION ??= 'local';
// Passwords go to a local encrypted file of this test file's own (made only when one is stored).
const secretsDir = join(tmpdir(), `sluice-test-secrets-${randomUUID()}`);
process.env.SLUICE_SECRETS_DIR = secretsDir;
afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));
