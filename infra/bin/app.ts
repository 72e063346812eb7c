// The CDK app (cdk.json: `npx tsx infra/bin/app.ts`). Context: see infra/lib/app.ts and the README.
import { createApp } from '../lib/app.js';

createApp().app.synth();
