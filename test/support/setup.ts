import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { setLogSink } from '../../functions/shared/logger.js';
import { installCapture } from './capture.js';

// Every test file: logs at debug level, so that the secrets scan (capture.ts) reads every line,
// printed only when asked (SLUICE_TEST_LOGS=1), and no Node 20 notice from the AWS SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.LOG_LEVEL ??= 'debug';
if (process.env.SLUICE_TEST_LOGS !== '1') setLogSink(() => undefined);
installCapture();
process.env.AWS_REGION ??= 'local';
// As on `npm start`: webhooks and the GitOps apiUrl may reach receivers on 127.0.0.1 (tests of the deployed guard unset it).
process.env.SLUICE_OUTBOUND_ALLOW_LOOPBACK ??= 'true';
// Passwords go to a local encrypted file of this test file's own (made only when one is stored).
const secretsDir = join(tmpdir(), `sluice-test-secrets-${randomUUID()}`);
process.env.SLUICE_SECRETS_DIR = secretsDir;
afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));
