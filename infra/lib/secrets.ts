// Instance passwords live in Secrets Manager, one secret per data source, created at run time by
// the instances function under `${prefix}/` and encrypted with the account's AWS managed key
// (aws/secretsmanager). Only that function may create, read, replace or delete them.
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { SluiceFunction } from './function.js';

/** What functions/adapters/secrets/secrets-manager.ts issues: no list, no describe, no tags. */
export const SECRET_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:GetSecretValue',
  'secretsmanager:DeleteSecret',
] as const;

/** Gives `fn` the secrets under `prefix/` (and SECRETS_PREFIX to find them), nothing else. */
export function grantDataSourceSecrets(fn: SluiceFunction, prefix: string): void {
  const stack = Stack.of(fn);
  fn.fn.addEnvironment('SECRETS_PREFIX', prefix);
  // A secret's ARN ends in a random suffix (`-AbCdEf`), so the prefix needs a trailing wildcard.
  const arn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...SECRET_ACTIONS], resources: [arn] }));
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}/*]`,
    reason:
      'Secrets Manager appends a random suffix to every secret ARN, and the instances function creates one secret per data source at run time, so their ARNs cannot be listed in advance. The wildcard is confined to this stack\'s prefix; no other secret in the account is reachable.',
  });
}

/**
 * Read-only access for a function that connects to the data sources but never manages their
 * passwords (the task runner): GetSecretValue under `prefix/`, and SECRETS_PREFIX to find them.
 */
export function grantDataSourceSecretRead(fn: SluiceFunction, prefix: string): void {
  const stack = Stack.of(fn);
  fn.fn.addEnvironment('SECRETS_PREFIX', prefix);
  const arn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }));
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}/*]`,
    reason:
      'The function reads the password of whichever data source it connects to (a task\'s target, a query\'s database, a database whose expired backups it drops); the secrets are created at run time by the instances function with a random ARN suffix, so the wildcard is confined to this stack\'s prefix, and the only action is GetSecretValue.',
  });
}

/**
 * GitOps connectors' secrets live under `prefix/vcs/{project}/webhookSecret|accessToken`, apart
 * from the data sources' passwords: `which` narrows a reader to one kind. Sets SECRETS_PREFIX.
 */
export function grantVcsSecrets(fn: SluiceFunction, prefix: string, actions: readonly string[], which: 'webhookSecret' | 'accessToken' | 'all', reason: string): void {
  const stack = Stack.of(fn);
  fn.fn.addEnvironment('SECRETS_PREFIX', prefix);
  const resourceName = which === 'all' ? `${prefix}/vcs/*` : `${prefix}/vcs/*/${which}-??????`;
  const arn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...actions], resources: [arn] }));
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${resourceName}]`,
    reason,
  });
}
